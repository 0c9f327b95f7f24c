/**
 * Checkpoints of area walks: what is left of a harvest after the pages handed out so far, small
 * (bounded by the cells in flight and waiting, never by the items) and plain JSON, so that a
 * harvest stopped at any moment can go on where it was. A walk resumed from a checkpoint asks
 * only for the cells not yet handed out; a page handed out after the checkpoint was taken is
 * asked (and handed out) again.
 */
import { createHash } from 'node:crypto';
import type { BBox } from '../geo/bbox';
import { InvalidInputError } from '../errors';

/** A cell still to ask for: in area `a` of the search, box `b`; `i`: wholly inside the shape; `x`: items a cut expected in it. */
export interface CheckpointCell {
  a: number;
  b: BBox;
  i?: 1;
  x?: number;
}

export interface Checkpoint {
  version: 1;
  /** The search it belongs to: a digest of its area, shape, filters, fields and limits. */
  search: string;
  /** The query (group of ids) the walk was in: earlier ones are done. */
  query: number;
  /** The grid (box of the area) and the number of its cells taken so far: the next ones are still to do. */
  grid: number;
  cell: number;
  /** Cells taken from the grid (or parts of cut ones) whose pages were not handed out yet. */
  cells: CheckpointCell[];
  /** Handed out before this checkpoint, by all the runs of this harvest so far. */
  done: { items: number; pages: number; cells: number };
  /** Cells of the plan (grown by cuts) and cells skipped outside the shape, when it was taken. */
  plan: { total: number; skipped: number };
}

/** Where a walk starts in one of its area searches, read from a checkpoint. */
export interface AreaStart {
  grid: number;
  cell: number;
  cells: CheckpointCell[];
}

/** The digest of a search, from its parts in a fixed order. */
export function searchDigest(parts: unknown): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 32);
}

/** Cells a checkpoint may list: far more than a walk keeps (its concurrency and its cut cells), so a torn or foreign file is refused. */
const MAX_CELLS = 100_000;

const count = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

/**
 * A checkpoint read back (from a file, say), checked for its shape and for its search: anything
 * else is refused with MAPILLARY_INVALID_INPUT (a harvest then starts afresh).
 */
/**
 * Cells read back (from a checkpoint or a job): each of a known area, a box with finite corners;
 * anything else is refused with MAPILLARY_INVALID_INPUT. With `boxes`, each cell must lie within
 * its area's box (a cell of that area's grid, or a part of one).
 */
export function readCells(value: unknown, areas: number, what: string, boxes?: readonly BBox[]): CheckpointCell[] {
  const bad = (why: string): never => {
    throw new InvalidInputError(`${what}: ${why}`);
  };
  if (!Array.isArray(value) || value.length > MAX_CELLS) bad('cells is not a list');
  const cells: CheckpointCell[] = [];
  for (const raw of value as unknown[]) {
    const c = raw as Record<string, unknown>;
    const box = c?.b as number[] | undefined;
    if (!count(c?.a) || (c.a as number) >= areas) bad('a cell of an unknown area');
    if (!Array.isArray(box) || box.length !== 4 || !box.every((v) => typeof v === 'number' && Number.isFinite(v)) || !(box[0]! < box[2]!) || !(box[1]! < box[3]!)) bad('a cell is not a box');
    if (c.x !== undefined && !(typeof c.x === 'number' && Number.isFinite(c.x) && c.x >= 0)) bad('a cell\'s expected items are not a number');
    const area = boxes?.[c.a as number];
    if (area && !(box![0]! >= area[0] && box![1]! >= area[1] && box![2]! <= area[2] && box![3]! <= area[3])) bad('a cell outside its area');
    cells.push({ a: c.a as number, b: [box![0]!, box![1]!, box![2]!, box![3]!], ...(c.i === 1 ? { i: 1 as const } : {}), ...(c.x === undefined ? {} : { x: c.x as number }) });
  }
  return cells;
}

export function readCheckpoint(value: unknown, search: string, areas: number): Checkpoint {
  const bad = (why: string): never => {
    throw new InvalidInputError(`checkpoint: ${why}`);
  };
  if (!value || typeof value !== 'object') bad('not an object');
  const cp = value as Record<string, unknown>;
  if (cp.version !== 1) bad('unknown version');
  if (cp.search !== search) bad('it is of another search');
  for (const key of ['query', 'grid', 'cell'] as const) if (!count(cp[key])) bad(`${key} is not a count`);
  if ((cp.grid as number) > areas) bad('grid out of range');
  const done = cp.done as Record<string, unknown> | undefined;
  const plan = cp.plan as Record<string, unknown> | undefined;
  if (!done || !count(done.items) || !count(done.pages) || !count(done.cells)) bad('done is not counts');
  if (!plan || !count(plan.total) || !count(plan.skipped)) bad('plan is not counts');
  const cells = readCells(cp.cells, areas, 'checkpoint');
  return {
    version: 1, search, query: cp.query as number, grid: cp.grid as number, cell: cp.cell as number, cells,
    done: { items: done!.items as number, pages: done!.pages as number, cells: done!.cells as number },
    plan: { total: plan!.total as number, skipped: plan!.skipped as number },
  };
}
