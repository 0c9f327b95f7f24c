/**
 * What "Resume after a stop" costs: the record written after each page of a harvest of the
 * sandbox's city (55,113 images; the density worlds), at the default concurrency of 32: its size
 * (the cells in flight and waiting, never items) and the time of each atomic write (a temporary
 * file, fsync, rename), as the nodes write it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MapillaryClient } from '../src';
import { ResumeRecords } from '../nodes/shared/resume';
import { SANDBOX_CREDENTIALS } from '../sandbox/data';
import { CITY } from '../sandbox/worlds';
import { densitySandbox } from './cells';

async function main(): Promise<void> {
  const { sandbox } = await densitySandbox();
  const root = mkdtempSync(join(tmpdir(), 'mapillary-resume-bench-'));
  const client = new MapillaryClient({ clientToken: SANDBOX_CREDENTIALS.clientToken, requestsPerMinute: 0, baseUrls: { graph: sandbox.graphUrl, tiles: sandbox.tilesUrl } });
  try {
    const records = new ResumeRecords(root, 'bench');
    const stream = client.searchImages({ bbox: CITY.area });
    const sizes: number[] = [];
    const times: number[] = [];
    for await (const page of stream) {
      void page;
      const checkpoint = stream.checkpoint()!;
      sizes.push(JSON.stringify(checkpoint).length);
      const started = process.hrtime.bigint();
      records.save(stream.search!, checkpoint);
      times.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
    const median = (values: number[]) => sorted(values)[Math.floor(values.length / 2)]!;
    console.log('| harvest | items | pages (records written) | record size: median / largest | write time: median / slowest |\n|---|---|---|---|---|');
    console.log(`| the sandbox's city | ${stream.stats.items.toLocaleString('en-US')} | ${sizes.length} | ${median(sizes)} / ${Math.max(...sizes)} bytes | ${median(times).toFixed(2)} / ${Math.max(...times).toFixed(2)} ms |`);
  } finally {
    await client.close();
    await sandbox.close();
    rmSync(root, { recursive: true, force: true });
  }
}

if (process.argv[1]?.endsWith('resume.ts')) void main();
