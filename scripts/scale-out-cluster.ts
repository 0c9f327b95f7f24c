/**
 * A harvest spread over Node-RED processes, for the scale-out test and bench: mosquitto on
 * loopback, a coordinator running example 07 and workers running example 08, each in a Node-RED
 * process of its own (this project linked into its user directory), all against one Mapillary
 * (the sandbox). Test-only nodes added to the coordinator write what it passes on (each item's id,
 * each summary) to files, synchronously, so that what they hold is what was delivered.
 */
import { type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  deployFlows, type FlowNode, flowsOf, freePort, linkedUserDir, loadExamples, pressInject, settingsSource,
  startNodeRed, stopProcess, waitForNodeRed,
} from './node-red-home';
import { type Broker, ensureMosquitto, startBroker } from './mqtt-broker';

export interface ClusterOptions {
  workers: number;
  /** The Node-RED environment: Mapillary's URLs and credentials (nodeRedEnv of a sandbox, say). */
  env: NodeJS.ProcessEnv;
  /** Coordinator settings changed for the run (timeout in seconds, jobs out at once). */
  coordinator?: { timeout?: number; inFlight?: number; output?: 'page' | 'item' };
  /** The area planned, when not example 07's. */
  bbox?: string;
}

export interface Member { name: string; child: ChildProcess; editor: string; userDir: string; log: () => string }

export interface Cluster {
  broker: Broker;
  coordinator: Member;
  workers: Member[];
  /** Presses the coordinator's inject and resolves with the summary, the ids passed on and the time taken. */
  harvest(timeoutMs?: number, during?: (ids: () => string[]) => Promise<void>): Promise<{ summary: Record<string, any>; ids: string[]; ms: number }>;
  stop(): Promise<void>;
}

const COORDINATOR = '07 Scale out - coordinator';
const WORKER = '08 Scale out - worker';

async function member(name: string, env: NodeJS.ProcessEnv, root: string): Promise<Member> {
  const userDir = join(root, name);
  linkedUserDir(userDir, `scale-out-${name}`);
  const port = await freePort();
  writeFileSync(join(userDir, 'settings.js'), `${settingsSource({ uiPort: port, credentialSecret: 'scale-out', logLevel: 'warn', fileWorkingDirectory: userDir })}module.exports.functionGlobalContext = { fs: require('fs') };\n`);
  const child = startNodeRed({ userDir, port, env: { ...env, NODE_OPTIONS: '' }, stdio: 'pipe' });
  let log = '';
  child.stdout!.setEncoding('utf8').on('data', (text: string) => { log += text; });
  child.stderr!.setEncoding('utf8').on('data', (text: string) => { log += text; });
  const editor = `http://127.0.0.1:${port}`;
  await waitForNodeRed(editor, child);
  return { name, child, editor, userDir, log: () => log };
}

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  ensureMosquitto();
  const broker = await startBroker();
  const root = mkdtempSync(join(tmpdir(), 'mapillary-scale-'));
  const env = { ...options.env, MQTT_HOST: broker.host, MQTT_PORT: String(broker.port) };
  const started: Member[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(started.map((m) => stopProcess(m.child, 5000)));
    await broker.stop();
    rmSync(root, { recursive: true, force: true });
  };
  try {
    const names = ['coordinator', ...Array.from({ length: options.workers }, (_, i) => `worker-${i + 1}`)];
    const members = await Promise.all(names.map(async (name) => {
      const m = await member(name, env, root);
      started.push(m);
      return m;
    }));
    const [coordinator, ...workers] = members as [Member, ...Member[]];
    const examples = loadExamples();
    const byName = (name: string) => examples.find((e) => e.name === name)!;

    const itemsFile = join(coordinator.userDir, 'items.txt');
    const summaryFile = join(coordinator.userDir, 'summary.txt');
    const write = (file: string, what: string) => `global.get('fs').appendFileSync(${JSON.stringify(file)}, ${what}); return null;`;
    const coordinatorFlows: FlowNode[] = flowsOf([byName(COORDINATOR)]).map((n) => {
      if (n.id === 'ex7-jobs') {
        const [jobs, items, done] = n.wires as string[][];
        // The example's Join rebuilds one item per message; with one message per job it has nothing to join.
        const itemWires = options.coordinator?.output === 'page' ? ['test-items'] : [...items!, 'test-items'];
        return { ...n, ...options.coordinator, wires: [jobs!, itemWires, [...done!, 'test-summary']] };
      }
      if (n.id === 'ex7-plan' && options.bbox) return { ...n, bbox: options.bbox };
      return n;
    });
    coordinatorFlows.push(
      // One item per message (the example's item mode), or a job's items at once (page mode).
      { id: 'test-items', type: 'function', z: 'ex7', func: write(itemsFile, `(Array.isArray(msg.payload) ? msg.payload : [msg.payload]).map((i) => i.id + '\\n').join('')`), outputs: 1, wires: [[]] },
      { id: 'test-summary', type: 'function', z: 'ex7', func: write(summaryFile, `JSON.stringify(msg.payload) + '\\n'`), outputs: 1, wires: [[]] },
    );
    await deployFlows(coordinator.editor, coordinatorFlows);
    await Promise.all(workers.map((w) => deployFlows(w.editor, flowsOf([byName(WORKER)]))));
    // The workers subscribe once their flows run: a job sent before that would wait for its timeout.
    await new Promise((resolve) => setTimeout(resolve, 1500));

    const lines = (file: string): string[] => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);
    return {
      broker, coordinator, workers, stop,
      async harvest(timeoutMs = 120_000, during) {
        rmSync(itemsFile, { force: true });
        rmSync(summaryFile, { force: true });
        const startedAt = process.hrtime.bigint();
        for (let i = 0; ; i++) {
          try {
            await pressInject(coordinator.editor, 'ex7-inject');
            break;
          } catch (error) {
            if (i > 100) throw error;
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
        }
        const watching = during?.(() => lines(itemsFile));
        const deadline = Date.now() + timeoutMs;
        while (lines(summaryFile).length === 0) {
          if (Date.now() > deadline) throw new Error(`no summary from the coordinator within ${timeoutMs} ms; ${lines(itemsFile).length} items\n${coordinator.log()}`);
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        const ms = Number(process.hrtime.bigint() - startedAt) / 1e6;
        await watching;
        return { summary: JSON.parse(lines(summaryFile)[0]!) as Record<string, any>, ids: lines(itemsFile), ms };
      },
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
