/**
 * Scaling out: the same planned harvest (example 07's area) with one worker and with three, each
 * a Node-RED process of its own, over mosquitto, against the sandbox in a process of its own
 * answering after 50 ms (as over the internet). Time from the coordinator's inject to its
 * summary; median of 3 runs each, the two set-ups run one after the other. The coordinator
 * passes each job's items on as one message (page mode): one message per item, as example 07
 * does for its Join, costs the coordinator about as much as the harvest itself on this 2-core
 * machine (second table).
 */
import { SANDBOX_CREDENTIALS } from '../sandbox/data';
import { startCluster } from '../scripts/scale-out-cluster';
import { sandboxProcess } from './flow';

const RUNS = 3;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** Example 07's area (one dense job among 19 light ones), and a wider region around it (80 jobs). */
export const SCALE_AREAS = [
  { name: "example 07's area", bbox: undefined },
  { name: 'the region around it', bbox: '12.850,52.100,13.650,52.900' },
];

async function main(): Promise<void> {
  const sandbox = await sandboxProcess(Number(process.env.BENCH_LATENCY ?? 50));
  const env = {
    ...process.env, MAPILLARY_GRAPH_URL: sandbox.graphUrl, MAPILLARY_TILES_URL: sandbox.tilesUrl,
    MAPILLARY_CLIENT_ID: SANDBOX_CREDENTIALS.clientId, MAPILLARY_CLIENT_TOKEN: SANDBOX_CREDENTIALS.clientToken, MAPILLARY_CLIENT_SECRET: SANDBOX_CREDENTIALS.clientSecret,
  };
  const results: { area: string; workers: number; ms: number; jobs: number; items: number; longestMs: number }[] = [];
  try {
    for (const area of SCALE_AREAS) {
      for (const workers of [1, 3]) {
        const cluster = await startCluster({ workers, env, coordinator: { output: 'page' }, bbox: area.bbox });
        try {
          const times: number[] = [];
          let last: Record<string, any> = {};
          for (let run = 0; run < RUNS; run++) {
            const { summary, ms } = await cluster.harvest();
            if (summary.ended !== 'complete') throw new Error(`the harvest ended ${summary.ended}`);
            times.push(ms);
            last = summary;
          }
          results.push({ area: area.name, workers, ms: median(times), jobs: last.jobs, items: last.items, longestMs: last.longestJobMs });
        } finally {
          await cluster.stop();
        }
      }
    }
  } finally {
    await sandbox.stop();
  }
  console.log('| area | workers | jobs | items | longest job | time (median of 3) | speed-up |\n|---|---|---|---|---|---|---|');
  for (const r of results) {
    const one = results.find((x) => x.area === r.area && x.workers === 1)!.ms;
    console.log(`| ${r.area} | ${r.workers} | ${r.jobs} | ${r.items.toLocaleString('en-US')} | ${(r.longestMs / 1000).toFixed(2)} s | ${(r.ms / 1000).toFixed(2)} s | ${(one / r.ms).toFixed(2)}× |`);
  }
}

if (process.argv[1]?.endsWith('scale-out.ts')) void main();
