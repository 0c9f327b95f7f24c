/**
 * npm run bench: how memory and time of an area harvest grow with its size.
 *
 * A lattice server answers v4 image searches with points on a regular grid (spacing 1e-4
 * degrees, so many lie exactly on cell edges), capped at `limit` without a cursor like the real
 * API, so the client splits cells until every answer is complete. Two harvests, one with four
 * times the items of the other, run in this process; each is checked for exactly-once delivery
 * by count and checksum (no id set, which would itself grow), and the peak heap after GC is
 * sampled while it runs. The figures are ratios between the two runs: memory should not grow
 * with the harvest (ratio near 1), time should grow with it (ratio near 4).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Agent, request } from 'undici';
import { MapillaryClient } from '../src';

import { ORIGIN, range, served, startLattice } from './lattice';

interface Result { items: number; expected: number; exact: boolean; requests: number; cellsSplit: number; seconds: number; peakHeapMb: number; baseHeapMb: number }

const gc = (globalThis as { gc?: () => void }).gc;
const heapMb = () => {
  gc?.();
  return process.memoryUsage().heapUsed / 1048576;
};

/** `sampleHeap`: measure the heap (a full collection every 25 pages, which takes time: off when timing against the raw loop). */
async function harvest(graph: string, side: number, sampleHeap = true, concurrency = 4): Promise<Result> {
  const bbox = [ORIGIN[0] + 0.00005, ORIGIN[1] + 0.00005, ORIGIN[0] + 0.00005 + side, ORIGIN[1] + 0.00005 + side] as const;
  const [x0, x1] = range(bbox[0], bbox[2], ORIGIN[0]);
  const [y0, y1] = range(bbox[1], bbox[3], ORIGIN[1]);
  const expected = (x1 - x0 + 1) * (y1 - y0 + 1);
  let expectedSum = 0;
  for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) expectedSum = (expectedSum + y * 1_000_000 + x) % 2 ** 32;

  const client = new MapillaryClient({ clientToken: 'MLY|0|bench', baseUrls: { graph }, requestsPerMinute: 0, concurrency });
  const baseHeapMb = heapMb();
  let peakHeapMb = baseHeapMb;
  let items = 0;
  let sum = 0;
  const started = process.hrtime.bigint();
  const stream = client.searchImages({ bbox, fields: ['id', 'geometry'] });
  for await (const page of stream) {
    for (const item of page.items) {
      items++;
      sum = (sum + Number(item.id)) % 2 ** 32;
    }
    if (sampleHeap && stream.stats.pages % 25 === 0) peakHeapMb = Math.max(peakHeapMb, heapMb());
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await client.close();
  return { items, expected, exact: items === expected && sum === expectedSum, requests: stream.stats.requests, cellsSplit: stream.stats.cellsSplit, seconds, peakHeapMb, baseHeapMb };
}

/**
 * The floor of the transport: the same URLs the client asked for, in the same order, fetched by
 * a plain loop of undici requests, `concurrency` at a time, each body read and parsed as JSON.
 */
async function rawLoop(origin: string, paths: readonly string[], concurrency: number): Promise<number> {
  const agent = new Agent({ keepAliveTimeout: 10_000 });
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < paths.length) {
      const path = paths[next++]!;
      const { body } = await request(`${origin}${path}`, { dispatcher: agent, headers: { authorization: 'OAuth MLY|0|bench' } });
      JSON.parse(await body.text());
    }
  }));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await agent.close();
  return seconds;
}

/** The lattice in a child process (bench/lattice-process.ts). */
async function latticeProcess(): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ['--import=tsx', join(__dirname, 'lattice-process.ts')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const url: string = await new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`lattice process exited with ${code}`)));
  });
  return { url, stop: () => new Promise((resolve) => { child.once('exit', () => resolve()); child.stdin!.end(); }) };
}

/** Requests at once in the comparison with the raw loop, for both (4: at 32 the client holds more answers at once, and collects more garbage, in this CPU-bound run). */
const COMPARE_CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main(): Promise<void> {
  if (!gc) throw new Error('run with --expose-gc (npm run bench does)');
  const lattice = await startLattice();
  try {
    await harvest(lattice.url, 0.01); // warm-up: JIT, sockets
    const small = await harvest(lattice.url, 0.06);
    const large = await harvest(lattice.url, 0.12);
    const row = (name: string, r: Result) => console.log(
      `${name.padEnd(6)} ${String(r.items).padStart(8)} items  exact=${r.exact}  ${String(r.requests).padStart(5)} requests  ${String(r.cellsSplit).padStart(4)} splits  `
      + `${r.seconds.toFixed(2).padStart(6)} s  heap growth ${(r.peakHeapMb - r.baseHeapMb).toFixed(1)} MB (peak ${r.peakHeapMb.toFixed(1)} MB)`);
    row('small', small);
    row('large', large);
    const growth = (r: Result) => Math.max(0.5, r.peakHeapMb - r.baseHeapMb);
    console.log(`ratios large/small: items ${(large.items / small.items).toFixed(2)}, time ${(large.seconds / small.seconds).toFixed(2)}, heap growth ${(growth(large) / growth(small)).toFixed(2)} (floor 0.5 MB)`);
    // The client against a raw undici loop over the same URLs, alternating, median of 9 each,
    // the lattice in a process of its own (a near-free server that does not share this thread).
    served.length = 0;
    await harvest(lattice.url, 0.06);
    const paths = [...served];
    const remote = await latticeProcess();
    const clientTimes: number[] = [];
    const rawTimes: number[] = [];
    try {
      await harvest(remote.url, 0.01, false); // warm-up: sockets
      for (let round = 0; round < 9; round++) {
        clientTimes.push((await harvest(remote.url, 0.06, false, COMPARE_CONCURRENCY)).seconds);
        rawTimes.push(await rawLoop(remote.url, paths, COMPARE_CONCURRENCY));
      }
    } finally {
      await remote.stop();
    }
    console.log(`client vs raw undici loop over the same ${paths.length} URLs (concurrency ${COMPARE_CONCURRENCY}, median of 9): client ${median(clientTimes).toFixed(2)} s, raw ${median(rawTimes).toFixed(2)} s, client throughput ${(median(rawTimes) / median(clientTimes)).toFixed(2)}x the raw loop's`);
    // Back-to-back small harvests on one client (one request each), with the default rate
    // ceiling and with none: the ceiling's burst should not slow a short series down.
    const backToBack = async (requestsPerMinute: number | undefined): Promise<number> => {
      const client = new MapillaryClient({ clientToken: 'MLY|0|bench', baseUrls: { graph: lattice.url }, requestsPerMinute });
      const started = process.hrtime.bigint();
      for (let i = 0; i < 500; i++) await client.searchImages({ bbox: [10.0001, 50.0001, 10.0021, 50.0021], fields: ['id'] }).toArray();
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      await client.close();
      return seconds;
    };
    const limited: number[] = [];
    const free: number[] = [];
    for (let round = 0; round < 3; round++) {
      limited.push(await backToBack(undefined));
      free.push(await backToBack(0));
    }
    console.log(`500 small harvests back to back on one client (median of 3): default rate ceiling ${median(limited).toFixed(2)} s, no ceiling ${median(free).toFixed(2)} s, ratio ${(median(limited) / median(free)).toFixed(2)}`);
    if (!small.exact || !large.exact) {
      console.error('a harvest was not exact: items lost or repeated');
      process.exitCode = 1;
    }
  } finally {
    await lattice.close();
  }
}

void main();
