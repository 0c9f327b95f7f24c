/**
 * "Resume after a stop" in a real Node-RED process killed with `kill -9` mid-harvest: started
 * again on the same user directory, the same input goes on from the record, and what the flow
 * received over both runs is exactly the sandbox's ground truth, with at most one page repeated
 * (the page being delivered when the process died). The flow writes each page it receives to a
 * file synchronously, in a function node, so that what it holds is what was delivered.
 */
import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { world } from '../../sandbox/data';
import { deployFlows, freePort, linkedUserDir, pressInject, settingsSource } from '../../scripts/node-red-home';
import { useSandbox } from '../support';
import { NodeRedProcess } from './harness';

const AREA = [13.2, 52.4, 13.45, 52.55] as const;
const sorted = (ids: string[]) => [...ids].sort();

describe('resume after kill -9, in a real Node-RED process', function () {
  this.timeout(120_000);
  // Slow answers, one cell at a time: the harvest takes a few seconds, long enough to kill it in the middle.
  const sandbox = useSandbox({ latencyMs: 120 });
  let userDir = '';
  let running: NodeRedProcess | undefined;
  afterEach(async () => {
    await running?.stop();
    running = undefined;
    rmSync(userDir, { recursive: true, force: true });
  });

  async function start(port: number): Promise<NodeRedProcess> {
    return NodeRedProcess.start({ userDir, port, env: { ...process.env, NODE_OPTIONS: '' } }, `http://127.0.0.1:${port}`);
  }

  it('goes on after the process was killed: nothing lost, at most the page in delivery repeated', async () => {
    userDir = mkdtempSync(join(tmpdir(), 'mapillary-kill-'));
    linkedUserDir(userDir, 'kill-test');
    const port = await freePort();
    // The collecting function node writes with fs, given to it by the settings.
    writeFileSync(join(userDir, 'settings.js'), `${settingsSource({ uiPort: port, credentialSecret: 'kill-test', logLevel: 'warn' })}module.exports.functionGlobalContext = { fs: require('fs') };\n`);
    const pages = join(userDir, 'pages.txt');
    const summaries = join(userDir, 'summaries.txt');
    const write = (file: string, what: string) => `global.get('fs').appendFileSync(${JSON.stringify(file)}, JSON.stringify(${what}) + '\\n'); return null;`;

    running = await start(port);
    const editor = `http://127.0.0.1:${port}`;
    await deployFlows(editor, [
      { id: 'tab', type: 'tab', label: 'kill' },
      { id: 'cfg', type: 'mapillary-config', name: 'sandbox', apiVersion: 'v4', graphUrl: sandbox.graphUrl, tilesUrl: sandbox.tilesUrl, timeout: '', concurrency: '1', requestsPerMinute: '0', credentials: { clientToken: 'MLY|4242|sandbox-client-token' } },
      { id: 'go', type: 'inject', z: 'tab', name: '', props: [{ p: 'payload' }], payload: '', payloadType: 'str', repeat: '', once: false, wires: [['images']] },
      { id: 'images', type: 'mapillary-images', z: 'tab', mapillary: 'cfg', bbox: AREA.join(','), bboxType: 'str', fields: ['id'], output: 'page', format: 'json', maxItems: 0, maxRequests: 1000, resume: true, wires: [['pages'], ['summary']] },
      { id: 'pages', type: 'function', z: 'tab', func: write(pages, 'msg.payload.map((i) => i.id)'), outputs: 1, wires: [[]] },
      { id: 'summary', type: 'function', z: 'tab', func: write(summaries, 'msg.payload'), outputs: 1, wires: [[]] },
    ]);
    /** Presses the inject once the flows run (just after a deploy or a start, its route may not be there yet). */
    const press = async (): Promise<void> => {
      for (let i = 0; ; i++) {
        try {
          return await pressInject(editor, 'go');
        } catch (error) {
          if (i > 100) throw running!.withLog(error);
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    };
    const lines = (file: string): unknown[] => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : []);

    await press();
    for (let i = 0; i < 600 && lines(pages).length < 4; i++) await new Promise((r) => setTimeout(r, 10));
    running.child.kill('SIGKILL');
    await new Promise((resolve) => running!.child.once('exit', resolve));
    const before = lines(pages) as string[][];
    assert.ok(before.length >= 4, `${before.length} pages before the kill`);
    assert.deepEqual(lines(summaries), [], 'killed before the harvest ended');
    const recordDir = join(userDir, 'mapillary', 'resume', 'images');
    assert.equal(readdirSync(recordDir).filter((f) => f.endsWith('.json')).length, 1, 'a record was left');

    running = await start(port);
    const mark = sandbox.requests.length;
    await press();
    for (let i = 0; i < 3000 && lines(summaries).length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    const [summary] = lines(summaries) as { ended: string; items: number; resumed?: { items: number; cells: number } }[];
    assert.ok(summary, `the resumed harvest ended\n${running.log}`);
    assert.equal(summary.ended, 'complete');
    const after = (lines(pages) as string[][]).slice(before.length);
    const all = [...before.flat(), ...after.flat()];
    const truth = sorted(world.imagesIn([...AREA]).map((i) => i.id));
    assert.deepEqual(sorted([...new Set(all)]), truth, 'every image of the area, none lost');
    const repeated = all.length - new Set(all).size;
    assert.ok(repeated <= Math.max(...before.map((p) => p.length)), `${repeated} items repeated: at most the page in delivery`);
    assert.ok(summary.resumed && summary.resumed.items >= before.flat().length - Math.max(...before.map((p) => p.length)), JSON.stringify(summary));
    assert.ok(sandbox.requests.length - mark > 0);
    assert.deepEqual(readdirSync(recordDir).filter((f) => f.endsWith('.json')), [], 'the record is gone once complete');
    assert.deepEqual(running.errorLines(), []);
  });
});
