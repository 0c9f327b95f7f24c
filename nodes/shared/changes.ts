/**
 * "Only changes": what a harvest found that its last complete run did not (added), and what that
 * run found that this one did not (removed). The state of a search is the sorted set of its item
 * ids, 8 bytes each (v4 ids are decimal numbers under 2^64), in
 * `<userDir>/mapillary/changes/<node id>/<search digest>.ids`: 8 MB for 1,000,000 items, written
 * atomically (a temporary file, flushed, renamed over it) and only by a complete run. While a run
 * goes on, the ids it found are kept in memory; when it can resume after a stop, they are also
 * appended to a log (`.seen`) as pages are delivered, so that a resumed run still knows everything
 * its earlier part found and reports removals correctly.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { MalformedResponseError } from '../../src';
import { safeName as safe, writeAtomically } from './files';
import type { NodeAPI } from './red';

const MAGIC = Buffer.from('MLYIDS01');
const MAX_ID = (1n << 64n) - 1n;

export function changesDir(RED: NodeAPI): string | undefined {
  return RED.settings.userDir ? join(RED.settings.userDir, 'mapillary', 'changes') : undefined;
}

/** An item's id as a number (v4 ids are decimal numbers, without leading zeros). */
export function idNumber(item: unknown): bigint {
  const id = (item as { id?: unknown } | null)?.id;
  const text = typeof id === 'number' && Number.isSafeInteger(id) ? String(id) : id;
  if (typeof text !== 'string' || !/^(0|[1-9]\d{0,19})$/.test(text) || BigInt(text) > MAX_ID) {
    throw new MalformedResponseError(`Only changes: an item has the id ${JSON.stringify(id)?.slice(0, 40)}, not a number; the API's ids are numbers`);
  }
  return BigInt(text);
}

/** A growing list of ids (8 bytes each). */
class IdList {
  private data = new BigUint64Array(1024);
  length = 0;

  push(value: bigint): void {
    if (this.length === this.data.length) {
      const larger = new BigUint64Array(this.data.length * 2);
      larger.set(this.data);
      this.data = larger;
    }
    this.data[this.length++] = value;
  }

  /** Its ids sorted, each once. */
  sortedSet(): BigUint64Array {
    const sorted = this.data.subarray(0, this.length).sort();
    let kept = 0;
    for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[kept - 1]) sorted[kept++] = sorted[i]!;
    return sorted.subarray(0, kept);
  }
}

function has(sorted: BigUint64Array, value: bigint): boolean {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const at = sorted[mid]!;
    if (at === value) return true;
    if (at < value) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

const bytesOf = (ids: BigUint64Array): Uint8Array => new Uint8Array(ids.buffer, ids.byteOffset, ids.byteLength);

/** The ids in a file of 8-byte ids (a torn last entry left out). */
function readIds(bytes: Buffer, offset: number): BigUint64Array {
  const count = Math.floor((bytes.length - offset) / 8);
  const ids = new BigUint64Array(count);
  bytes.copy(Buffer.from(ids.buffer), 0, offset, offset + count * 8);
  return ids;
}

export interface ChangeCounts { added: number; removed: number; unchanged: number }

/** One harvest's changes against the last complete run of its search. */
export class ChangeTracker {
  private readonly dir: string;
  private readonly stateFile: string;
  private readonly logFile: string;
  /** The last complete run's ids, sorted; undefined on the first run (everything is added). */
  private readonly previous?: BigUint64Array;
  private readonly seen = new IdList();
  /** Ids found since the last `delivered` (appended to the log then). */
  private fresh: bigint[] = [];
  /** This run's ids, sorted, once `diff` was taken. */
  private found?: BigUint64Array;

  /**
   * `logged`: the run can resume after a stop (its ids are logged); `resumed`: it goes on from an
   * earlier part, whose logged ids are read back. `warn` is told when the state cannot be read.
   */
  constructor(root: string, nodeId: string, search: string, private readonly logged: boolean, resumed: boolean, warn: (why: string) => void) {
    this.dir = join(root, safe(nodeId));
    this.stateFile = join(this.dir, `${safe(search)}.ids`);
    this.logFile = join(this.dir, `${safe(search)}.seen`);
    let bytes: Buffer | undefined;
    try {
      bytes = readFileSync(this.stateFile);
    } catch { /* no complete run yet */ }
    if (bytes) {
      if (bytes.length >= MAGIC.length && bytes.subarray(0, MAGIC.length).equals(MAGIC) && (bytes.length - MAGIC.length) % 8 === 0) this.previous = readIds(bytes, MAGIC.length);
      else warn(this.stateFile);
    }
    if (resumed && logged) {
      try {
        for (const id of readIds(readFileSync(this.logFile), 0)) this.seen.push(id);
      } catch { /* nothing logged yet */ }
    } else {
      rmSync(this.logFile, { force: true });
    }
  }

  /** The items of a page that the last complete run did not have; every id is noted as found. */
  added<T>(items: T[]): T[] {
    const out: T[] = [];
    for (const item of items) {
      const id = idNumber(item);
      this.seen.push(id);
      if (this.logged) this.fresh.push(id);
      if (!this.previous || !has(this.previous, id)) out.push(item);
    }
    return out;
  }

  /** The page was delivered: its ids go to the log (before the resume record moves past it). */
  delivered(): void {
    if (!this.logged || this.fresh.length === 0) return;
    mkdirSync(this.dir, { recursive: true });
    const fd = openSync(this.logFile, 'a');
    try {
      writeSync(fd, bytesOf(BigUint64Array.from(this.fresh)));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.fresh = [];
  }

  /**
   * The run is complete: the ids of the last complete run that this one did not find (as text,
   * sorted), and the counts. Nothing is written yet: `commit` makes this run the state once the
   * removals were delivered (a crash before that reports them again, never loses them).
   */
  diff(): { removed: string[]; counts: ChangeCounts } {
    const now = this.seen.sortedSet();
    const before = this.previous ?? new BigUint64Array(0);
    const removed: string[] = [];
    let unchanged = 0;
    let i = 0;
    let j = 0;
    while (i < before.length || j < now.length) {
      if (j >= now.length || (i < before.length && before[i]! < now[j]!)) removed.push(String(before[i++]));
      else if (i >= before.length || now[j]! < before[i]!) j++;
      else {
        unchanged++;
        i++;
        j++;
      }
    }
    this.found = now;
    return { removed, counts: { added: now.length - unchanged, removed: removed.length, unchanged } };
  }

  /** Makes the complete run's ids the state of the search (after `diff`). */
  commit(): void {
    if (!this.found) return;
    mkdirSync(this.dir, { recursive: true });
    writeAtomically(this.stateFile, [MAGIC, bytesOf(this.found)]);
    rmSync(this.logFile, { force: true });
  }

  /** The run ended without completing and will not resume (stopped at max items): its log goes. */
  discard(): void {
    rmSync(this.logFile, { force: true });
  }
}
