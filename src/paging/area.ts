import type { Transport } from '../transport/transport';
import { type BBox, formatBBox } from '../geo/bbox';
import { cellSide, gridCells, ownsPoint } from '../geo/cells';
import type { Placement, Shape } from '../geo/shape';
import { isQueryTimeout } from '../transport/classify';
import { eventLoopTurns } from '../transport/sleep';
import { isMapillaryError } from '../errors';
import type { AreaStart, CheckpointCell } from './checkpoint';
import type { Coverage } from './coverage';
import { cutCell, type Part } from './cut';
import { fetchCollection } from './fetch';
import type { HarvestWarning, Page, Walk } from './walk';

export interface AreaSearch<T> {
  /** The area, already validated (two boxes when it crosses the antimeridian). */
  areas: BBox[];
  /** Items asked for per request (the API's maximum is 2000). */
  limit: number;
  /** Largest cell asked for, in square degrees; the API refuses 0.01 and more. */
  maxCellArea: number;
  /** A cell is not split below this side length (degrees). */
  minCellSide: number;
  concurrency: number;
  /** The request URL for one cell. */
  url: (cell: BBox, limit: number) => URL;
  /** The item's [lon, lat], to give an item on a shared edge to exactly one cell. */
  locate: (item: T) => readonly number[] | undefined;
  /** "images", "map features": for warnings. */
  label: string;
  /** Applied to each kept item (to drop fields asked for only to place it). */
  present?: (item: T) => T;
  /** The area's shape, when it is one: cells that do not meet it are skipped, items outside it dropped. */
  shape?: Shape;
  /**
   * Where each cell of each area's grid lies, in grid order, when the plan placed them already
   * (they are then not placed again, and those outside were left out of the plan).
   */
  placements?: readonly (readonly Placement[])[];
  /** Coverage tiles that count the search's items (image searches whose filters tiles can apply). */
  coverage?: Coverage;
}


/** Below this many items per request a dense cell is given up and reported. */
const MIN_LIMIT = 100;

interface Job {
  cell: BBox;
  area: BBox;
  /** Which of the search's areas. */
  areaIndex: number;
  /** The cell lies wholly inside the area's shape: its items need no test of their own. */
  inside?: boolean;
  /** Items this cell was expected to hold when a cut made it (it was meant to fit one answer). */
  expected?: number;
}

type Outcome<T> = { parts: Job[] } | { parts?: undefined; items: T[]; warnings: HarvestWarning[] };

/**
 * How a cell that did not fit one answer is cut. A full answer carries no count: the parts are
 * sized from what is known (coverage tiles count exactly; a tile at the centre samples the
 * density), else from guesses that measurement chose (see README, "What a harvest costs").
 */
const CUT = {
  /** Parts are sized to hold this share of the limit when their count is estimated... */
  estimatedShare: 0.85,
  /** ...and this share when tiles counted them (tiles may miss the newest images). */
  countedShare: 0.95,
  /** Parts of a cell refused as too heavy (code 1), nothing else known: it holds more than the API will count. */
  refusedParts: 4,
  /** Parts of a full answer, nothing else known... */
  fullParts: 4,
  /** ...and when its items look like a sample of the cell (cut at their positions). */
  sampledParts: 2,
  /** A cut answer's items look like a sample when they reach across this share of the cell both ways. */
  sampleReach: 0.75,
  /** A cell needing at most this many new tiles is counted with all of them... */
  coverTiles: 4,
  /** ...one needing at most this many is sampled with the tile at its centre; a larger one is cut by guess first. */
  probeTiles: 12,
};

/**
 * Cells of the areas, depth first: the parts of a cut cell are asked for before the next cell of
 * the grid, so the work list stays small whatever the size of the area.
 */
class CellQueue {
  private readonly stack: Job[] = [];
  private readonly grids: { area: BBox; areaIndex: number; cells: Generator<BBox>; placements?: readonly Placement[]; index: number }[];

  /**
   * With a shape, each cell is placed before it is asked for (or its placement is taken from the
   * plan): one that misses the shape is skipped (`skip` is told, unless the plan left it out
   * already), one wholly inside it is marked so that its items are not tested one by one.
   */
  constructor(
    private readonly areas: BBox[], maxCellArea: number, private readonly shape?: Shape, placements?: readonly (readonly Placement[])[],
    private readonly skip?: () => void, start?: AreaStart,
  ) {
    this.grids = areas.map((area, i) => ({ area, areaIndex: i, cells: gridCells(area, maxCellArea).cells(), placements: placements?.[i], index: 0 }));
    if (!start) return;
    // A resumed walk: the grids and cells taken before are done, but for the cells listed.
    this.grids.splice(0, start.grid);
    const grid = this.grids[0];
    if (grid) {
      while (grid.index < start.cell && !grid.cells.next().done) grid.index++;
    }
    for (const c of [...start.cells].reverse()) {
      this.stack.push({
        cell: c.b, area: areas[c.a]!, areaIndex: c.a, ...(c.i ? { inside: true } : {}), ...(c.x === undefined ? {} : { expected: c.x }),
      });
    }
  }

  /** The grid being taken and how many of its cells were taken; the cells waiting (next first). */
  position(): { grid: number; cell: number; waiting: Job[] } {
    const grid = this.grids[0];
    return { grid: grid ? grid.areaIndex : this.areas.length, cell: grid ? grid.index : 0, waiting: [...this.stack].reverse() };
  }

  /**
   * The next cell to ask for. Placing cells against a detailed shape takes time, and a run of
   * cells outside it may be long: the event loop gets a turn every few milliseconds of it.
   */
  async next(): Promise<Job | undefined> {
    const job = this.stack.pop();
    if (job) return job;
    const turns = eventLoopTurns();
    while (this.grids.length > 0) {
      const grid = this.grids[0]!;
      const cell = grid.cells.next();
      if (cell.done) {
        this.grids.shift();
        continue;
      }
      const planned = grid.placements?.[grid.index];
      grid.index++;
      // A cell the plan placed outside was left out of the plan: skipped without a word.
      if (planned === 'outside') continue;
      const placed = planned ? { cell: cell.value, area: grid.area, areaIndex: grid.areaIndex, inside: planned === 'inside' } : this.placed(cell.value, grid.area, grid.areaIndex);
      if (placed) return placed;
      await turns.turn();
    }
    return undefined;
  }

  /** The parts of a cut cell that meet the shape, asked for next; the others are skipped. */
  split(parts: Job[]): void {
    for (const part of [...parts].reverse()) {
      const placed = part.inside ? part : this.placed(part.cell, part.area, part.areaIndex);
      if (!placed) continue;
      if (part.expected !== undefined) placed.expected = part.expected;
      this.stack.push(placed);
    }
  }

  private placed(cell: BBox, area: BBox, areaIndex: number): Job | undefined {
    if (!this.shape) return { cell, area, areaIndex };
    const placement = this.shape.place(cell);
    if (placement === 'outside') {
      this.skip?.();
      return undefined;
    }
    return { cell, area, areaIndex, inside: placement === 'inside' };
  }
}

/**
 * Pages of a v4 area search (images, map features). Such searches return at most `limit`
 * items and no cursor, so the area is cut into cells under the area limit; a cell that comes
 * back full, or is refused as too heavy (code 1), is cut into parts (as many as what is known
 * says it needs: see cutJob) and they are asked for, down to `minCellSide`. Past that it is
 * reported with a warning, never dropped silently. An item on
 * an edge shared by two cells is kept only by the cell that owns its point, so no memory of
 * emitted ids is needed. Cells are fetched `concurrency` at a time; one page per cell.
 */
export function areaPages<T>(transport: Transport, search: AreaSearch<T>) {
  async function fetchCell(walk: Walk, job: Job): Promise<Outcome<T>> {
    const canSplit = cellSide(job.cell) / 2 >= search.minCellSide;
    let limit = search.limit;
    for (;;) {
      try {
        let items: T[] = [];
        let url: URL | undefined = search.url(job.cell, limit);
        let first = true;
        let cut = false;
        while (url) {
          const page: { items: T[]; next?: URL } = await fetchCollection<T>(transport, walk, url);
          // One page (the usual answer) is kept as it came; pages after it are added to it.
          if (first) items = page.items;
          else for (const item of page.items) items.push(item);
          // A full answer without a cursor may have been cut; one with a cursor is followed.
          if (first && !page.next && page.items.length >= limit) cut = true;
          first = false;
          url = page.next;
        }
        if (!cut) return { items, warnings: [] };
        const parts = canSplit ? await cutJob(walk, job, false, items) : [];
        if (parts.length > 1) return { parts };
        return {
          items,
          warnings: [warning('MAPILLARY_POSSIBLY_TRUNCATED', job.cell,
            `${search.label} in ${formatBBox(job.cell)} may be incomplete: the API returned its maximum of ${limit} items for a cell that cannot be split further`)],
        };
      } catch (error) {
        // Too much data (code 1), or a query that keeps timing out on Mapillary's side (code -2,
        // after its retries): a smaller cell or a smaller page is asked instead.
        if (!isMapillaryError(error) || (error.code !== 'MAPILLARY_TOO_MUCH_DATA' && !isQueryTimeout(error))) throw error;
        const parts = canSplit ? await cutJob(walk, job, true) : [];
        if (parts.length > 1) return { parts };
        if (limit > MIN_LIMIT) {
          limit = Math.max(MIN_LIMIT, Math.floor(limit / 2));
          continue;
        }
        return {
          items: [],
          warnings: [warning('MAPILLARY_CELL_FAILED', job.cell,
            `${search.label} in ${formatBBox(job.cell)} were not fetched: the API refused even ${limit} items for a cell that cannot be split further (${(error as Error).message})`)],
        };
      }
    }
  }

  /**
   * The parts of a cell that did not fit one answer (`refused`: code 1; else a full answer,
   * `items`). Tiles are asked when the cell is known to be dense (refused, or a part that was
   * meant to fit and did not) and cheap to count, else one tile samples its density; with
   * nothing known, a guess.
   */
  async function cutJob(walk: Walk, job: Job, refused: boolean, items?: T[]): Promise<Job[]> {
    const { cell } = job;
    const coverage = search.coverage;
    const dense = refused || job.expected !== undefined;
    let positions: number[] | undefined;
    let estimate: number | undefined;
    if (coverage?.usable) {
      positions = await coverage.positions(cell);
      if (!positions && dense) {
        const missing = coverage.missing(cell);
        if (missing <= CUT.coverTiles) {
          if (await coverage.cover(cell, walk)) positions = await coverage.positions(cell);
        } else if (missing <= CUT.probeTiles) {
          await coverage.probe(cell, walk);
        }
      }
      if (!positions) estimate = await coverage.estimate(cell);
    }
    // What the answer proved: a full one holds at least the limit, a refused one more than that.
    const atLeast = refused ? 2 * search.limit : search.limit;
    let parts: number | undefined;
    let place: number[] | undefined;
    if (positions) {
      const counted = positions.length / 2;
      // Fewer images in the tiles than the answer proved: the tiles are older than the data.
      parts = counted >= atLeast ? Math.ceil(counted / (CUT.countedShare * search.limit)) : Math.ceil(atLeast / (CUT.estimatedShare * search.limit)) + 1;
      place = positions;
    } else if (estimate !== undefined) {
      parts = Math.ceil(Math.max(estimate, atLeast) / (CUT.estimatedShare * search.limit));
    }
    if (!place && items) place = spread(positionsOf(items), cell);
    // Nothing known but the answer: a guess, smaller for a first answer whose items show where
    // to cut (a part that was meant to fit and did not is denser than guessed: four parts).
    parts ??= refused ? CUT.refusedParts : place && job.expected === undefined ? CUT.sampledParts : CUT.fullParts;
    parts = Math.max(2, parts);
    const cutParts: Part[] = cutCell(cell, parts, search.minCellSide, place);
    // A part's expected items: counted by the tiles; else its share of the estimate (or of what
    // the answer proved), by the answer's items it holds when they placed the cut, or evenly.
    const whole = estimate ?? atLeast;
    const sampled = !positions && estimate === undefined && place ? place.length / 2 : 0;
    const expected = (part: Part): number => (positions ? part.known : sampled > 0 ? (part.known / sampled) * whole : whole / cutParts.length);
    return cutParts.map((part) => ({ cell: part.box, area: job.area, areaIndex: job.areaIndex, inside: job.inside, expected: expected(part) }));
  }

  /**
   * The positions of a cut answer's items, to place the cuts, when they look like a sample of the
   * whole cell: they reach across most of it both ways. An answer cut in an order that follows
   * position (row by row, say) covers one strip of the cell, and would place the cuts badly.
   */
  function spread(positions: number[], cell: BBox): number[] | undefined {
    let [w, s, e, n] = [Infinity, Infinity, -Infinity, -Infinity];
    for (let i = 0; i + 1 < positions.length; i += 2) {
      w = Math.min(w, positions[i]!);
      e = Math.max(e, positions[i]!);
      s = Math.min(s, positions[i + 1]!);
      n = Math.max(n, positions[i + 1]!);
    }
    const across = (e - w) / (cell[2] - cell[0]);
    const along = (n - s) / (cell[3] - cell[1]);
    return across >= CUT.sampleReach && along >= CUT.sampleReach ? positions : undefined;
  }

  function positionsOf(items: T[]): number[] {
    const out: number[] = [];
    for (const item of items) {
      const point = search.locate(item);
      if (point && Number.isFinite(point[0]) && Number.isFinite(point[1])) out.push(point[0]!, point[1]!);
    }
    return out;
  }

  /** The items the cell owns (inside the shape, if any), as presented, and their positions. */
  function owned(job: Job, items: T[]): { items: T[]; positions: Float64Array } {
    const kept: T[] = [];
    const positions = new Float64Array(2 * items.length);
    for (const item of items) {
      const point = search.locate(item);
      const known = !!point && Number.isFinite(point[0]) && Number.isFinite(point[1]);
      if (known && (!ownsPoint(job.cell, job.area, point[0]!, point[1]!) || (search.shape && !job.inside && !search.shape.contains(point[0]!, point[1]!)))) continue;
      positions[2 * kept.length] = known ? point[0]! : NaN;
      positions[2 * kept.length + 1] = known ? point[1]! : NaN;
      kept.push(item);
    }
    return { items: search.present ? kept.map(search.present) : kept, positions: positions.subarray(0, 2 * kept.length) };
  }

  return async function* pages(walk: Walk): AsyncGenerator<Page<T>, void, undefined> {
    const queue = new CellQueue(search.areas, search.maxCellArea, search.shape, search.placements, () => walk.cellSkipped(), walk.startOf(search.areas.length));
    type Settled = { key: number; job: Job; outcome?: Outcome<T>; error?: unknown };
    const running = new Map<number, Promise<Settled>>();
    /** The cell of each request in flight (or answered, its page not handed out yet), in the order they were started. */
    const started = new Map<number, Job>();
    /** The cell whose page is being handed out. */
    let handing: Job | undefined;
    let nextKey = 0;
    // What is left: the cells started and not handed out, then those waiting, then the rest of the grids.
    walk.trackArea(() => {
      const { grid, cell, waiting } = queue.position();
      const cells = [...(handing ? [handing] : []), ...started.values(), ...waiting].map(checkpointCell);
      return { grid, cell, cells };
    });
    /** Keeps `concurrency` cells in flight (also while the consumer handles a page). */
    const refill = async (): Promise<void> => {
      while (!walk.full && running.size < search.concurrency) {
        const job = await queue.next();
        if (!job) break;
        const key = nextKey++;
        started.set(key, job);
        running.set(key, fetchCell(walk, job).then((outcome) => ({ key, job, outcome }), (error) => ({ key, job, error })));
      }
    };
    try {
      for (;;) {
        await refill();
        if (running.size === 0) return;
        const settled = await Promise.race(running.values());
        running.delete(settled.key);
        if (settled.error !== undefined) throw settled.error;
        const outcome = settled.outcome!;
        walk.cellDone(outcome.parts?.length ?? 0);
        if (outcome.parts) {
          // The parts replace the cell (in the same turn: a checkpoint sees one or the other).
          started.delete(settled.key);
          walk.stats.cellsSplit += 1;
          queue.split(outcome.parts);
          continue;
        }
        for (const w of outcome.warnings) walk.warn(w);
        const mine = owned(settled.job, outcome.items);
        const page = walk.page(mine.items, outcome.warnings, settled.job.cell, mine.positions);
        handing = settled.job;
        started.delete(settled.key);
        // The next cells go out before this page is handed over, not after it is handled.
        await refill();
        // Handed out: a checkpoint taken while the consumer has it (after handling it) leaves this cell out.
        handing = undefined;
        yield page;
        if (walk.full) return;
      }
    } finally {
      if (running.size > 0) {
        walk.cancel();
        await Promise.allSettled(running.values());
      }
    }
  };
}

function checkpointCell(job: Job): CheckpointCell {
  return { a: job.areaIndex, b: job.cell, ...(job.inside ? { i: 1 as const } : {}), ...(job.expected === undefined ? {} : { x: Math.round(job.expected) }) };
}

function warning(code: HarvestWarning['code'], bbox: BBox, message: string): HarvestWarning {
  return { code, message, bbox };
}
