/**
 * What `npm start` (scripts/start.ts) and the end-to-end tests (test/e2e/) share: the
 * environment that points the example flows at the sandbox, the example flows as Node-RED tabs,
 * a settings file, and starting, waiting for, deploying to and stopping a Node-RED process (4.1
 * by default; 5.0 from node_modules/node-red-5 with another Node binary). Plain Node (node:http,
 * node:child_process); no Node-RED import.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { SANDBOX_CREDENTIALS } from '../sandbox/data';
import type { Sandbox } from '../sandbox/server';

export const PROJECT_ROOT = join(__dirname, '..');
export const PACKAGE_NAME = '@streetflow/node-red-mapillary';
export const NODE_TYPES = ['mapillary-config', 'mapillary-images', 'mapillary-detections', 'mapillary-features', 'mapillary-jobs', 'mapillary-image'] as const;

/** The flows of a Node-RED user directory, and the backups Node-RED makes of them. */
export const FLOW_FILES = ['flows.json', 'flows_cred.json', '.flows.json.backup', '.flows_cred.json.backup'] as const;
/**
 * The user tokens the config nodes keep across restarts (obtained by Authenticate or refreshed
 * since the last Deploy; see nodes/shared/user-tokens.ts), and the key that encrypts them when
 * the settings have no credentialSecret.
 */
export const TOKEN_FILES = ['.mapillary-tokens.json', '.mapillary-tokens.key'] as const;

/**
 * What `npm start -- --reset` clears in a user directory: the flows (the examples are deployed
 * again) and the kept user tokens (a token of an earlier sandbox or account would otherwise come
 * back). Settings, installed nodes and files written by flows stay. Returns the files removed.
 */
export function resetUserDir(userDir: string): string[] {
  const removed: string[] = [];
  for (const name of [...FLOW_FILES, ...TOKEN_FILES]) {
    const file = join(userDir, name);
    if (!existsSync(file)) continue;
    rmSync(file, { force: true });
    removed.push(name);
  }
  return removed;
}

/** The variables the example config nodes read as `${NAME}` (URLs, then credentials). */
export const URL_VARIABLES = ['MAPILLARY_GRAPH_URL', 'MAPILLARY_V3_URL', 'MAPILLARY_TILES_URL', 'MAPILLARY_AUTHORIZE_URL', 'MAPILLARY_TOKEN_URL'] as const;
export const CREDENTIAL_VARIABLES = ['MAPILLARY_CLIENT_ID', 'MAPILLARY_CLIENT_TOKEN', 'MAPILLARY_CLIENT_SECRET', 'MAPILLARY_USER_TOKEN'] as const;

/** True when the environment carries real Mapillary credentials (then no sandbox is used). */
export function hasRealCredentials(env: NodeJS.ProcessEnv = process.env): boolean {
  return !!(env.MAPILLARY_CLIENT_TOKEN?.trim() || env.MAPILLARY_USER_TOKEN?.trim());
}

/**
 * The environment for Node-RED. With a sandbox: every MAPILLARY_* variable of `base` is dropped
 * and the sandbox URLs and credentials are set. Without: `base` is passed through unchanged
 * (real credentials; the URL variables stay unset unless the caller set them, so the nodes use
 * Mapillary's own hosts).
 */
export function nodeRedEnv(base: NodeJS.ProcessEnv, sandbox?: Sandbox): NodeJS.ProcessEnv {
  if (!sandbox) return { ...base };
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(base)) if (!name.startsWith('MAPILLARY_')) env[name] = value;
  return {
    ...env,
    MAPILLARY_GRAPH_URL: sandbox.graphUrl,
    MAPILLARY_V3_URL: sandbox.v3Url,
    MAPILLARY_TILES_URL: sandbox.tilesUrl,
    MAPILLARY_AUTHORIZE_URL: sandbox.authorizeUrl,
    MAPILLARY_TOKEN_URL: sandbox.tokenUrl,
    MAPILLARY_CLIENT_ID: SANDBOX_CREDENTIALS.clientId,
    MAPILLARY_CLIENT_TOKEN: SANDBOX_CREDENTIALS.clientToken,
    MAPILLARY_CLIENT_SECRET: SANDBOX_CREDENTIALS.clientSecret,
  };
}

/** A node of a flow file: `credentials` (if any) is deployed with it and stored in flows_cred.json. */
export interface FlowNode {
  id: string;
  type: string;
  z?: string;
  credentials?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface Example {
  /** The file name without `.json`, also the tab's label. */
  name: string;
  file: string;
  /** The tab (`z` of the example's nodes). */
  tab: FlowNode;
  /** The example's nodes as in the file, config nodes included. */
  nodes: FlowNode[];
}

/** Every `examples/*.json`, in file-name order, each with a tab made from its nodes' `z`. */
export function loadExamples(root: string = PROJECT_ROOT): Example[] {
  const dir = join(root, 'examples');
  return readdirSync(dir).filter((name) => name.endsWith('.json')).sort().map((fileName): Example => {
    const file = join(dir, fileName);
    const nodes = JSON.parse(readFileSync(file, 'utf8')) as FlowNode[];
    if (!Array.isArray(nodes)) throw new Error(`${fileName}: expected an array of nodes`);
    const tabs = [...new Set(nodes.map((node) => node.z).filter((z): z is string => typeof z === 'string' && z !== ''))];
    if (tabs.length !== 1) throw new Error(`${fileName}: expected the nodes of one tab, found z = ${JSON.stringify(tabs)}`);
    const name = basename(fileName, '.json');
    return { name, file, tab: { id: tabs[0], type: 'tab', label: name, disabled: false, info: '' }, nodes };
  });
}

/** One flow configuration from examples: a tab each, config nodes (no `z`) once by id. Nodes keep `credentials`. */
export function flowsOf(examples: readonly Example[]): FlowNode[] {
  const flows: FlowNode[] = [];
  const seen = new Set<string>();
  for (const example of examples) {
    for (const node of [example.tab, ...example.nodes]) {
      if (seen.has(node.id)) {
        if (node.z) throw new Error(`${example.name}: node id ${node.id} is used twice`);
        continue; // a config node shared by several examples
      }
      seen.add(node.id);
      flows.push(structuredClone(node));
    }
  }
  return flows;
}

export interface SettingsOptions {
  uiHost?: string;
  /** Omitted: Node-RED's default (1880) or --port. */
  uiPort?: number;
  flowFile?: string;
  credentialSecret: string;
  /** Where the file nodes resolve relative names (default: Node-RED's working directory). */
  fileWorkingDirectory?: string;
  debugMaxLength?: number;
  logLevel?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
  /** Where the editor and admin API live (Node-RED's default: '/'). */
  httpAdminRoot?: string;
  /** Users of the editor and admin API (Node-RED's default: none, everything open). */
  adminAuth?: AdminAuth;
  /** Merged into `editorTheme` (which always has `tours: false`). */
  editorTheme?: Record<string, unknown>;
}

/** Node-RED's `adminAuth` setting with users in the settings file; passwords are bcrypt hashes. */
export interface AdminAuth {
  type: 'credentials';
  users: Array<{ username: string; password: string; permissions: string | string[] }>;
  default?: { permissions: string | string[] };
  sessionExpiryTime?: number;
}

/** The source of a settings.js. */
export function settingsSource(options: SettingsOptions, header = ''): string {
  const settings: Record<string, unknown> = {
    uiHost: options.uiHost ?? '127.0.0.1',
    ...(options.uiPort === undefined ? {} : { uiPort: options.uiPort }),
    flowFile: options.flowFile ?? 'flows.json',
    flowFilePretty: true,
    credentialSecret: options.credentialSecret,
    ...(options.fileWorkingDirectory === undefined ? {} : { fileWorkingDirectory: options.fileWorkingDirectory }),
    ...(options.httpAdminRoot === undefined ? {} : { httpAdminRoot: options.httpAdminRoot }),
    ...(options.adminAuth === undefined ? {} : { adminAuth: options.adminAuth }),
    debugMaxLength: options.debugMaxLength ?? 100_000,
    logging: { console: { level: options.logLevel ?? 'info', metrics: false, audit: false } },
    // Never ask for, or send, telemetry (no network beyond loopback).
    telemetry: { enabled: false, updateNotification: false },
    editorTheme: { tours: false, ...options.editorTheme },
  };
  return `${header ? `${header.trim().split('\n').map((line) => `// ${line}`.trimEnd()).join('\n')}\n` : ''}module.exports = ${JSON.stringify(settings, null, 4)};\n`;
}

/**
 * A new user directory for a Node-RED process of a test or bench: this project linked into its
 * node_modules as the package (and `packages`, contrib nodes from this project's own
 * node_modules, as a user installs them from the palette), and a package.json naming it.
 */
export function linkedUserDir(userDir: string, name: string, packages: readonly string[] = []): string {
  for (const [pkg, target] of [[PACKAGE_NAME, PROJECT_ROOT], ...packages.map((p) => [p, dirname(require.resolve(`${p}/package.json`, { paths: [PROJECT_ROOT] }))])] as [string, string][]) {
    const link = join(userDir, 'node_modules', ...pkg.split('/'));
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(target, link, 'dir');
  }
  writeFileSync(join(userDir, 'package.json'), JSON.stringify({ name, private: true, dependencies: { [PACKAGE_NAME]: `file:${PROJECT_ROOT}` } }));
  return userDir;
}

/** red.js of this project's Node-RED: node_modules/node-red (4.1, the default) or node_modules/node-red-5 (5.0). */
export function nodeRedScript(pkg: 'node-red' | 'node-red-5' = 'node-red'): string {
  return join(nodeRedDir(pkg), 'red.js');
}

/** The directory of this project's Node-RED package (`node-red`: 4.1, `node-red-5`: 5.0). */
export function nodeRedDir(pkg: 'node-red' | 'node-red-5' = 'node-red'): string {
  return dirname(require.resolve(`${pkg}/package.json`, { paths: [PROJECT_ROOT] }));
}

/** A free TCP port on 127.0.0.1 (free when asked; someone may take it before it is used). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface HttpAnswer { status: number; body: string }

/** One HTTP request without keep-alive (nothing stays open afterwards). */
export function http(method: string, url: string, body?: unknown, headers: Record<string, string> = {}, timeoutMs = 30_000): Promise<HttpAnswer> {
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method,
      agent: false,
      timeout: timeoutMs,
      headers: {
        accept: 'application/json',
        ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) }),
        ...headers,
      },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/**
 * Resolves once `GET <editor><path>` answers 200; rejects if the process exits first or on
 * timeout. With adminAuth, /settings needs a token: wait for '/auth/login' instead.
 */
export async function waitForNodeRed(editorUrl: string, child: ChildProcess, timeoutMs = 60_000, path = '/settings'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`Node-RED exited (${child.exitCode ?? child.signalCode}) before it answered on ${editorUrl}`);
    }
    try {
      const answer = await http('GET', `${editorUrl}${path}`, undefined, {}, 2000);
      if (answer.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`Node-RED did not answer on ${editorUrl} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

/**
 * A full deploy (stops every flow, starts the new ones); `credentials` on nodes are stored
 * encrypted. `headers`: e.g. `{ authorization: 'Bearer <token>' }` with adminAuth.
 */
export async function deployFlows(editorUrl: string, flows: readonly FlowNode[], headers: Record<string, string> = {}): Promise<void> {
  const answer = await http('POST', `${editorUrl}/flows`, flows, { 'Node-RED-Deployment-Type': 'full', 'Node-RED-API-Version': 'v1', ...headers });
  if (answer.status !== 204 && answer.status !== 200) throw new Error(`deploy failed: HTTP ${answer.status} ${answer.body.slice(0, 500)}`);
}

/** Presses an inject node's button, as the editor does. */
export async function pressInject(editorUrl: string, injectId: string, headers: Record<string, string> = {}): Promise<void> {
  const answer = await http('POST', `${editorUrl}/inject/${encodeURIComponent(injectId)}`, {}, headers);
  if (answer.status !== 200) throw new Error(`inject ${injectId}: HTTP ${answer.status} ${answer.body.slice(0, 300)}`);
}

export interface NodeSet { id: string; name: string; module: string; types: string[]; enabled: boolean; loaded: boolean; err?: string; version?: string }

/** The node sets Node-RED loaded from this package (GET /nodes). */
export async function packageNodeSets(editorUrl: string, headers: Record<string, string> = {}): Promise<NodeSet[]> {
  const answer = await http('GET', `${editorUrl}/nodes`, undefined, headers);
  if (answer.status !== 200) throw new Error(`GET /nodes: HTTP ${answer.status}`);
  return (JSON.parse(answer.body) as NodeSet[]).filter((set) => set.module === PACKAGE_NAME);
}

/** Problems with this package's node sets in Node-RED: missing types, sets with `err`. Empty when all is well. */
export function nodeSetProblems(sets: readonly NodeSet[]): string[] {
  const problems = sets.filter((set) => set.err).map((set) => `${set.name}: ${set.err}`);
  const types = new Set(sets.filter((set) => !set.err && set.enabled).flatMap((set) => set.types));
  for (const type of NODE_TYPES) if (!types.has(type)) problems.push(`node type ${type} is not loaded`);
  return problems;
}

export interface StartOptions {
  userDir: string;
  /** A settings file; without it Node-RED reads <userDir>/settings.js. */
  settings?: string;
  port?: number;
  cwd?: string;
  env: NodeJS.ProcessEnv;
  /** 'inherit' shows Node-RED's log in this terminal; 'pipe' leaves it to the caller. */
  stdio: 'inherit' | 'pipe';
  /** The Node binary (default: the one running this). */
  execPath?: string;
  /** Node-RED's red.js (default: nodeRedScript(), Node-RED 4). */
  script?: string;
}

/** Node-RED (4 from this project's node_modules unless `script` says otherwise) as a child process. */
export function startNodeRed(options: StartOptions): ChildProcess {
  const args = [options.script ?? nodeRedScript(), '--userDir', options.userDir];
  if (options.settings) args.push('--settings', options.settings);
  if (options.port !== undefined) args.push('--port', String(options.port));
  return spawn(options.execPath ?? process.execPath, args, { cwd: options.cwd ?? options.userDir, env: options.env, stdio: ['ignore', options.stdio, options.stdio] });
}

/** Asks the process to stop (SIGTERM: Node-RED closes its flows), kills it after `graceMs`; resolves on exit. */
export function stopProcess(child: ChildProcess, graceMs = 10_000, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(signal);
  });
}
