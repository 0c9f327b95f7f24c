/**
 * What "Only changes" costs for a 1,000,000-item area: the state on disk, the memory of a run
 * (the ids found, and the last complete state, both 8 bytes an id), and the time to classify the
 * items and find the removed ones. Two nights: the first (no state: everything is added), then
 * one where 1% of the items were replaced. Ids are 16-digit numbers, as Mapillary's.
 */
import { mkdtempSync, rmSync, statSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChangeTracker } from '../nodes/shared/changes';

const ITEMS = 1_000_000;
const PAGE = 2000;

function night(root: string, ids: string[]): { ms: number; added: number; removed: number; unchanged: number; memoryMb: number } {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const before = process.memoryUsage();
  const started = process.hrtime.bigint();
  const tracker = new ChangeTracker(root, 'node', 'search', false, false, () => undefined);
  let peak = 0;
  let added = 0;
  for (let i = 0; i < ids.length; i += PAGE) {
    added += tracker.added(ids.slice(i, i + PAGE).map((id) => ({ id }))).length;
    {
      const now = process.memoryUsage();
      peak = Math.max(peak, now.arrayBuffers - before.arrayBuffers);
    }
  }
  const { counts } = tracker.diff();
  tracker.commit();
  peak = Math.max(peak, process.memoryUsage().arrayBuffers - before.arrayBuffers);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (added !== counts.added) throw new Error(`${added} sent as added, ${counts.added} counted`);
  return { ms, ...counts, memoryMb: peak / 1024 / 1024 };
}

if (process.argv[1]?.endsWith('changes.ts')) {
  const root = mkdtempSync(join(tmpdir(), 'mapillary-changes-bench-'));
  try {
    const ids = Array.from({ length: ITEMS }, (_, i) => String(1_000_000_000_000_000 + i * 7919));
    const first = night(root, ids);
    const file = join(root, 'node', readdirSync(join(root, 'node'))[0]!);
    const bytes = statSync(file).size;
    // The next night: 1% taken away, as many new ones.
    const next = ids.filter((_, i) => i % 100 !== 0);
    for (let i = 0; i < ITEMS / 100; i++) next.push(String(2_000_000_000_000_000 + i));
    const second = night(root, next);
    console.log('| night | items | added | removed | unchanged | time | memory of the ids (peak) | state on disk |\n|---|---|---|---|---|---|---|---|');
    for (const [name, r] of [['first (no state)', first], ['next (1% replaced)', second]] as const) {
      console.log(`| ${name} | ${ITEMS.toLocaleString('en-US')} | ${r.added.toLocaleString('en-US')} | ${r.removed.toLocaleString('en-US')} | ${r.unchanged.toLocaleString('en-US')} | ${(r.ms / 1000).toFixed(2)} s | ${r.memoryMb.toFixed(1)} MB | ${(bytes / 1024 / 1024).toFixed(1)} MB |`);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
