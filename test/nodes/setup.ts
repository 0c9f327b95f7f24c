import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Sandbox } from '../../sandbox/server';
import { SANDBOX_CREDENTIALS } from '../../sandbox/data';

/** Which Node-RED runs the node tests: 4.1 by default, 5.0 with NODE_RED_LINE=5. */
export const runtimePackage = process.env.NODE_RED_LINE === '5' ? 'node-red-5' : 'node-red';
const runtimeDir = dirname(require.resolve(`${runtimePackage}/package.json`));
export const runtimeVersion: string = require(`${runtimePackage}/package.json`).version;

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const helper = require('node-red-node-test-helper') as TestHelper;
helper.init(require.resolve(runtimePackage));

const coreNodes = dirname(require.resolve('@node-red/nodes/package.json', { paths: [runtimeDir] }));
/** Node-RED's own Join node (in 17-split.js), from the runtime under test. */
export const splitJoinNodes = require(join(coreNodes, 'core', 'sequence', '17-split.js'));
/** Node-RED's own Function node. */
export const functionNode = require(join(coreNodes, 'core', 'function', '10-function.js'));
/** Node-RED's own Switch node. */
export const switchNode = require(join(coreNodes, 'core', 'function', '10-switch.js'));
/** Node-RED's own `http proxy` config node. */
export const httpProxyNode = require(join(coreNodes, 'core', 'network', '06-httpproxy.js'));

// The compiled nodes, as Node-RED loads them (`npm test` builds first).
const dist = join(__dirname, '..', '..', 'dist', 'nodes');
export const configNode = require(join(dist, 'mapillary-config.js'));
export const imagesNode = require(join(dist, 'mapillary-images.js'));
export const detectionsNode = require(join(dist, 'mapillary-detections.js'));
export const featuresNode = require(join(dist, 'mapillary-features.js'));
export const jobsNode = require(join(dist, 'mapillary-jobs.js'));
export const imageNode = require(join(dist, 'mapillary-image.js'));
export const allNodes = [configNode, imagesNode, detectionsNode, featuresNode, jobsNode, imageNode];

export interface TestNode {
  id: string;
  receive(msg: Record<string, unknown>): void;
  on(event: string, listener: (arg: any) => void): void;
  status: { args: any[][]; lastCall: { args: any[] } };
  warn: { args: any[][] };
  [key: string]: any;
}

export interface TestHelper {
  init(path: string): void;
  settings(settings: Record<string, unknown>): Record<string, unknown>;
  /** Node-RED's credentials module: what a Deploy would save. */
  credentials: { get(id: string): unknown };
  /** supertest on the admin app. */
  request(): any;
  load(nodes: unknown[], flow: unknown[], credentials?: Record<string, unknown>): Promise<void>;
  unload(): Promise<void>;
  setFlows(flow: unknown[], type: string, credentials?: Record<string, unknown>): Promise<void>;
  getNode(id: string): TestNode;
  startServer(done?: () => void): Promise<void>;
  stopServer(done?: () => void): Promise<void>;
}

/**
 * Mocha hooks of a node test file: Node-RED's test server runs around the file, and each test's
 * flows are unloaded after it.
 */
export function useNodeRed(): void {
  before(async () => {
    await helper.startServer();
  });
  after(async () => {
    await helper.stopServer();
  });
  afterEach(async () => {
    await helper.unload();
  });
}

/**
 * Mocha hooks of a node test file whose nodes keep files in the user directory: a new one for
 * each test (removed after it). The helper's settings outlive the file, so the user directory
 * it had is put back after the file. Returns the current directory.
 */
export function useUserDir(prefix: string): () => string {
  let previous: unknown;
  let current = '';
  before(() => {
    previous = helper.settings({}).userDir;
  });
  after(() => {
    helper.settings({ userDir: previous });
  });
  beforeEach(() => {
    current = mkdtempSync(join(tmpdir(), prefix));
    helper.settings({ userDir: current });
  });
  afterEach(() => rmSync(current, { recursive: true, force: true }));
  return () => current;
}

/** A config node pointed at the sandbox, and its credentials. */
export function sandboxConfig(sandbox: Sandbox, apiVersion: 'v4' | 'v3' = 'v4', extra: Record<string, unknown> = {}) {
  return {
    node: {
      id: 'cfg', type: 'mapillary-config', name: 'sandbox', apiVersion,
      graphUrl: sandbox.graphUrl, v3Url: sandbox.v3Url, tilesUrl: sandbox.tilesUrl,
      authorizeUrl: sandbox.authorizeUrl, tokenUrl: sandbox.tokenUrl,
      timeout: 10, concurrency: 4, requestsPerMinute: 0, ...extra,
    },
    credentials: {
      cfg: { clientId: SANDBOX_CREDENTIALS.clientId, clientToken: SANDBOX_CREDENTIALS.clientToken, clientSecret: SANDBOX_CREDENTIALS.clientSecret },
    },
  };
}

export interface Run {
  out: Record<string, any>[];
  done: Record<string, any>;
}

/** Messages reaching helper node `outId` until one reaches `doneId`. */
export function collect(outId = 'out', doneId = 'done', timeoutMs = 20_000): Promise<Run> {
  const out: Record<string, any>[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no completion message within ${timeoutMs} ms (${out.length} messages)`)), timeoutMs);
    helper.getNode(outId).on('input', (msg: Record<string, any>) => out.push(msg));
    helper.getNode(doneId).on('input', (msg: Record<string, any>) => {
      clearTimeout(timer);
      // Let messages already sent on output 1 arrive first.
      setImmediate(() => resolve({ out, done: msg }));
    });
  });
}

/** The texts the node showed as status, in order. */
export function statusTexts(node: TestNode): string[] {
  return node.status.args.map((a) => (a[0] && a[0].text) || '').filter(Boolean);
}
