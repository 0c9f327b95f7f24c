/**
 * The images node against the flow a user builds by hand, in a real Node-RED (4.1) runtime, both
 * with default settings, over the same 36,000 images (the densest box of the sandbox's sweep),
 * with the sandbox in a process of its own answering at once or after 50 ms.
 *
 * The hand-built flow is handed the right grid in advance (5 x 5 cells of about 1440 images,
 * which no user knows): a function node makes one URL per cell, the core `http request` node
 * fetches them all at once, and a function node gathers the ids. The images node has to find
 * the grid itself. Each is run alternately, five times; medians are compared.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { dirname, join } from 'node:path';
import { SANDBOX_CREDENTIALS } from '../sandbox/data';
import { SWEEP } from '../sandbox/worlds';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const helper = require('node-red-node-test-helper');
helper.init(require.resolve('node-red'));
const coreNodes = dirname(require.resolve('@node-red/nodes/package.json', { paths: [dirname(require.resolve('node-red/package.json'))] }));
const functionNode = require(join(coreNodes, 'core', 'function', '10-function.js'));
const httpRequestNode = require(join(coreNodes, 'core', 'network', '21-httprequest.js'));
const dist = join(__dirname, '..', 'dist', 'nodes');
const configNode = require(join(dist, 'mapillary-config.js'));
const imagesNode = require(join(dist, 'mapillary-images.js'));

export const FLOW_BOX = SWEEP.box(SWEEP.densities.length - 1);
const GRID = 5;

interface Server { graphUrl: string; tilesUrl: string; stop: () => Promise<void> }

/** The sandbox with the density worlds in a child process. */
export async function sandboxProcess(latencyMs: number): Promise<Server> {
  const child = spawn(process.execPath, ['--import=tsx', join(__dirname, 'sandbox-process.ts'), String(latencyMs)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const line: string = await new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`sandbox process exited with ${code}`)));
  });
  const urls = JSON.parse(line) as { graphUrl: string; tilesUrl: string };
  return {
    ...urls,
    stop: () => new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.stdin!.end();
    }),
  };
}

const GRID_CODE = `
const [w, s, e, n] = msg.box;
const out = [];
for (let r = 0; r < msg.grid; r++) {
  for (let c = 0; c < msg.grid; c++) {
    const cell = [w + (e - w) * c / msg.grid, s + (n - s) * r / msg.grid, w + (e - w) * (c + 1) / msg.grid, s + (n - s) * (r + 1) / msg.grid];
    out.push({ url: msg.graph + '/images?fields=' + msg.fields + '&limit=2000&bbox=' + cell.join(','), headers: { Authorization: 'OAuth ' + msg.token }, cells: msg.grid * msg.grid, run: msg.run });
  }
}
return [out];`;

const COLLECT_CODE = `
let run = context.get('run');
if (!run || run.id !== msg.run) run = { id: msg.run, ids: new Set(), answers: 0 };
for (const item of msg.payload.data) run.ids.add(item.id);
run.answers++;
context.set('run', run);
if (run.answers === msg.cells) return { payload: run.ids.size, run: msg.run };
return null;`;

function flows(server: Server, concurrency: string, fields: string[]) {
  return [
    { id: 'cfg', type: 'mapillary-config', name: 'bench', apiVersion: 'v4', graphUrl: server.graphUrl, tilesUrl: server.tilesUrl, timeout: '', concurrency, requestsPerMinute: '' },
    { id: 'images', type: 'mapillary-images', mapillary: 'cfg', bbox: FLOW_BOX.join(','), bboxType: 'str', fields, output: 'page', format: 'json', maxItems: 0, wires: [['count'], ['done']] },
    { id: 'count', type: 'helper' },
    { id: 'done', type: 'helper' },
    { id: 'grid', type: 'function', func: GRID_CODE, outputs: 1, wires: [['get']] },
    { id: 'get', type: 'http request', method: 'GET', ret: 'obj', paytoqs: 'ignore', url: '', persist: true, wires: [['collect']] },
    { id: 'collect', type: 'function', func: COLLECT_CODE, outputs: 1, wires: [['gathered']] },
    { id: 'gathered', type: 'helper' },
  ];
}

let run = 0;

/** Seconds the images node takes for the box, with the items it sent. */
async function nodeRun(): Promise<{ seconds: number; items: number }> {
  const started = process.hrtime.bigint();
  const count = helper.getNode('count');
  let items = 0;
  const onPage = (msg: { payload: unknown[] }) => { items += msg.payload.length; };
  count.on('input', onPage);
  const summary: { payload: { items: number; ended: string } } = await new Promise((resolve) => {
    helper.getNode('done').once('input', resolve);
    helper.getNode('images').receive({ payload: '' });
  });
  count.removeListener('input', onPage);
  if (summary.payload.ended !== 'complete') throw new Error(`the node ended ${summary.payload.ended}`);
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, items };
}

async function flowRun(server: Server, fields: string[]): Promise<{ seconds: number; items: number }> {
  const started = process.hrtime.bigint();
  const id = ++run;
  const msg: { payload: number } = await new Promise((resolve) => {
    const gathered = helper.getNode('gathered');
    const listener = (m: { run: number; payload: number }) => {
      if (m.run !== id) return;
      gathered.removeListener('input', listener);
      resolve(m);
    };
    gathered.on('input', listener);
    helper.getNode('grid').receive({ box: FLOW_BOX, grid: GRID, graph: server.graphUrl, token: SANDBOX_CREDENTIALS.clientToken, run: id, fields: fields.join(',') });
  });
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, items: msg.payload };
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

export interface FlowComparison { latencyMs: number; fields: string[]; flow: number; node: number; nodeAt4: number; items: number; flowItems: number }

/**
 * The hand-built flow, the images node with default settings and the node at concurrency 4 (the
 * old default), alternately, `rounds` times each; medians in seconds.
 */
export async function compareFlows(latencyMs: number, fields: string[], rounds = 7): Promise<FlowComparison> {
  const server = await sandboxProcess(latencyMs);
  await helper.startServer();
  try {
    const times = { flow: [] as number[], node: [] as number[], nodeAt4: [] as number[] };
    let items = 0;
    let flowItems = 0;
    for (const [key, concurrency] of [['node', ''], ['nodeAt4', '4']] as const) {
      await helper.load([configNode, imagesNode, functionNode, httpRequestNode], flows(server, concurrency, fields), {
        cfg: { clientToken: SANDBOX_CREDENTIALS.clientToken },
      });
      await nodeRun(); // warm-up: JIT, sockets
      await flowRun(server, fields);
      for (let i = 0; i < rounds; i++) {
        const a = await nodeRun();
        times[key].push(a.seconds);
        items = a.items;
        if (key === 'node') {
          const b = await flowRun(server, fields);
          times.flow.push(b.seconds);
          flowItems = b.items;
        }
      }
      await helper.unload();
    }
    return { latencyMs, fields, flow: median(times.flow), node: median(times.node), nodeAt4: median(times.nodeAt4), items, flowItems };
  } finally {
    await helper.stopServer();
    await server.stop();
  }
}

export function flowRow(r: FlowComparison): string {
  return `| ${r.latencyMs} ms | ${r.fields.join(', ')} | ${(r.flow * 1000).toFixed(0)} ms | ${(r.node * 1000).toFixed(0)} ms (${(r.node / r.flow).toFixed(2)}×) | ${(r.nodeAt4 * 1000).toFixed(0)} ms (${(r.nodeAt4 / r.flow).toFixed(2)}×) |`;
}

export const FLOW_HEADER = '| latency | fields | hand-built flow | images node, defaults | images node, concurrency 4 |\n|---|---|---|---|---|';

if (process.argv[1]?.endsWith('flow.ts')) {
  void (async () => {
    console.log(FLOW_HEADER);
    for (const fields of [['id'], ['id', 'geometry']]) {
      for (const latency of [0, 50]) {
        const r = await compareFlows(latency, fields);
        if (r.items !== r.flowItems) throw new Error(`the node sent ${r.items} items, the flow gathered ${r.flowItems} ids`);
        console.log(flowRow(r));
      }
    }
  })();
}
