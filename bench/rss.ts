/**
 * Memory of a 1,000,000-item harvest in a real Node-RED (4.1) process: the images node over a
 * lattice of a million images (0.1 x 0.1 degrees), sending one message per page or one per item
 * to a function node that counts them. The RSS of the Node-RED process is read from /proc every
 * 50 ms; its growth is the peak during the harvest less the RSS just before it.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  deployFlows, freePort, linkedUserDir, pressInject, settingsSource, startNodeRed, stopProcess, waitForNodeRed,
} from '../scripts/node-red-home';
import { startLattice } from './lattice';

export const MILLION_BOX = [10.00005, 50.00005, 10.10005, 50.10005];

const COUNT = `flow.set('counted', (flow.get('counted') || 0) + (Array.isArray(msg.payload) ? msg.payload.length : 1)); return null;`;
const REPORT = `node.warn('BENCH-RSS ' + JSON.stringify({ items: msg.payload.items, ended: msg.payload.ended, counted: flow.get('counted') })); return null;`;

const rssMb = (pid: number): number => {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'))!;
  return Number(line.split(/\s+/)[1]) / 1024;
};

export interface RssResult { mode: string; nodeOptions: string; items: number; counted: number; seconds: number; beforeMb: number; peakMb: number }

export async function rssRun(mode: 'page' | 'item', nodeOptions = ''): Promise<RssResult> {
  const lattice = await startLattice();
  const userDir = mkdtempSync(join(tmpdir(), 'mapillary-rss-'));
  const port = await freePort();
  linkedUserDir(userDir, 'rss-bench');
  writeFileSync(join(userDir, 'settings.js'), settingsSource({ uiPort: port, credentialSecret: 'bench', logLevel: 'warn' }));
  const child = startNodeRed({ userDir, port, env: { ...process.env, NODE_OPTIONS: nodeOptions }, stdio: 'pipe' });
  let log = '';
  child.stdout!.setEncoding('utf8').on('data', (t: string) => { log += t; });
  child.stderr!.setEncoding('utf8').on('data', (t: string) => { log += t; });
  const editor = `http://127.0.0.1:${port}`;
  try {
    await waitForNodeRed(editor, child);
    await deployFlows(editor, [
      { id: 'tab', type: 'tab', label: 'rss' },
      { id: 'cfg', type: 'mapillary-config', name: 'bench', apiVersion: 'v4', graphUrl: lattice.url, timeout: '', concurrency: '', requestsPerMinute: '0', credentials: { clientToken: 'MLY|0|bench' } },
      { id: 'go', type: 'inject', z: 'tab', name: '', props: [{ p: 'payload' }], payload: '', payloadType: 'str', repeat: '', once: false, wires: [['images']] },
      { id: 'images', type: 'mapillary-images', z: 'tab', mapillary: 'cfg', bbox: MILLION_BOX.join(','), bboxType: 'str', fields: ['id', 'geometry'], output: mode, format: 'json', maxItems: 0, maxRequests: 100000, wires: [['count'], ['report']] },
      { id: 'count', type: 'function', z: 'tab', func: COUNT, outputs: 1, wires: [[]] },
      { id: 'report', type: 'function', z: 'tab', func: REPORT, outputs: 1, wires: [[]] },
    ]);
    await new Promise((r) => setTimeout(r, 1500));
    const beforeMb = rssMb(child.pid!);
    let peakMb = beforeMb;
    const sampler = setInterval(() => { peakMb = Math.max(peakMb, rssMb(child.pid!)); }, 50);
    const started = process.hrtime.bigint();
    await pressInject(editor, 'go');
    while (!/BENCH-RSS /.test(log)) {
      if (child.exitCode !== null) throw new Error(`Node-RED exited:\n${log}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    clearInterval(sampler);
    const report = JSON.parse(/BENCH-RSS (\{.*\})/.exec(log)![1]!) as { items: number; counted: number; ended: string };
    if (report.ended !== 'complete') throw new Error(`the harvest ended ${report.ended}`);
    return { mode, nodeOptions, items: report.items, counted: report.counted, seconds, beforeMb, peakMb };
  } finally {
    await stopProcess(child);
    await lattice.close();
    rmSync(userDir, { recursive: true, force: true });
  }
}

if (process.argv[1]?.endsWith('rss.ts')) {
  void (async () => {
    console.log('| output | Node-RED heap | items | time | RSS before | RSS peak | growth |\n|---|---|---|---|---|---|---|');
    for (const nodeOptions of ['', '--max-old-space-size=128']) {
      for (const mode of ['page', 'item'] as const) {
        const r = await rssRun(mode, nodeOptions);
        if (r.counted !== r.items) throw new Error(`${r.counted} items counted of ${r.items}`);
        console.log(`| ${mode} | ${nodeOptions ? 'old space capped at 128 MB' : 'default'} | ${r.items.toLocaleString('en-US')} | ${r.seconds.toFixed(1)} s | ${r.beforeMb.toFixed(0)} MB | ${r.peakMb.toFixed(0)} MB | ${(r.peakMb - r.beforeMb).toFixed(0)} MB |`);
      }
    }
  })();
}
