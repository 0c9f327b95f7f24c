import type { BBox } from '../geo/bbox';
import { SETTING_RANGES } from '../limits';
import { AbortError, isMapillaryError, MapillaryError, RequestLimitError } from '../errors';
import { linkSignals } from '../transport/signals';
import type { RetryInfo } from '../transport/types';
import { type AreaStart, type Checkpoint, type CheckpointCell, readCells, readCheckpoint } from './checkpoint';

/** Something the caller must see although the walk goes on (never silent). */
export interface HarvestWarning {
  code: 'MAPILLARY_POSSIBLY_TRUNCATED' | 'MAPILLARY_CELL_FAILED';
  message: string;
  bbox?: BBox;
}

export interface Page<T> {
  items: T[];
  /** 0-based number of this page in the walk. */
  index: number;
  /** Warnings about this page (for example: its cell may hold more than the API returned). */
  warnings: HarvestWarning[];
  /** The cell this page covers, for area searches. */
  bbox?: BBox;
  /** The image or map feature whose detections these are, for detection walks. */
  source?: string;
  /**
   * Area searches: each item's position, lon then lat, in the order of `items` (NaN where it has
   * none), known from its geometry, which the walk asks for even when the item was not asked to
   * carry it.
   */
  positions?: Float64Array;
}

export interface WalkStats {
  items: number;
  pages: number;
  requests: number;
  retries: number;
  cellsSplit: number;
  /** Coverage tiles fetched to size cells (they count as requests too, against maxRequests). */
  tileRequests?: number;
  warnings: HarvestWarning[];
  startedAt: number;
  durationMs: number;
  /**
   * Area searches: cells answered; cells known so far (the plan, grown by splits); cells of the
   * area's boxes passed over because they miss its shape (in the plan, and quarters of splits).
   */
  cells?: { done: number; total: number; skipped: number };
  /** Why the walk ended; `undefined` while it runs. */
  ended?: 'complete' | 'max-items' | 'aborted' | 'error';
  /** A resumed walk: what the earlier runs of the harvest had handed out (not counted in `items` and `pages`). */
  resumed?: { items: number; pages: number; cells: number };
}

export interface WalkOptions {
  /** Stop after this many items (the last page is cut to fit). Default: no item cap. */
  maxItems?: number;
  /** Hard ceiling on requests (retries not counted); reaching it with work left is an error. */
  maxRequests?: number;
  /** Cells fetched at once by area searches. */
  concurrency?: number;
  signal?: AbortSignal;
  onRetry?: (info: RetryInfo) => void;
  onWarning?: (warning: HarvestWarning) => void;
  /** Told each time an area cell is answered (also an empty one), so progress is never silent. */
  onProgress?: (stats: Readonly<WalkStats>) => void;
}

export const DEFAULT_MAX_REQUESTS = SETTING_RANGES.maxRequests.default;

/**
 * The state of one walk over pages: its caps, its statistics and the signal that cancels its
 * in-flight requests when the consumer stops early, aborts, or the walk ends.
 */
export class Walk {
  readonly stats: WalkStats = {
    items: 0, pages: 0, requests: 0, retries: 0, cellsSplit: 0, warnings: [], startedAt: Date.now(), durationMs: 0,
  };
  readonly maxItems: number;
  readonly maxRequests: number;
  private readonly link: ReturnType<typeof linkSignals>;
  /**
   * Resumable area walks: the search's digest, its areas' boxes, and its plan (the cells of its
   * grid that meet the area, without a request).
   */
  resumable?: { search: string; areas: number; boxes: readonly BBox[]; params: object; queries: number; plan: () => CheckpointCell[] };
  /** The checkpoint this walk resumes from. */
  private resumeFrom?: Checkpoint;
  /** The query (group of ids) being walked. */
  query = 0;
  /** What is left of the area search being walked (set by it). */
  private areaLeft?: () => AreaStart;

  constructor(readonly options: WalkOptions, clientSignal?: AbortSignal) {
    this.maxItems = options.maxItems && options.maxItems > 0 ? options.maxItems : Infinity;
    this.maxRequests = options.maxRequests && options.maxRequests > 0 ? options.maxRequests : DEFAULT_MAX_REQUESTS;
    this.link = linkSignals(options.signal, clientSignal);
  }

  get signal(): AbortSignal {
    return this.link.signal;
  }

  get full(): boolean {
    return this.stats.items >= this.maxItems;
  }

  /** Counts one request, or throws when the ceiling is reached. */
  countRequest(endpoint: string): void {
    if (this.signal.aborted) throw new AbortError(`Mapillary ${endpoint}: aborted`, { endpoint });
    if (this.stats.requests >= this.maxRequests) {
      throw new RequestLimitError(
        `Mapillary ${endpoint}: stopped at the limit of ${this.maxRequests} requests before the walk was complete; results so far are partial`,
        { endpoint },
      );
    }
    this.stats.requests += 1;
  }

  /**
   * Makes the walk resume from `checkpoint` (read back from a file, say: checked here; a
   * checkpoint of another search is refused with MAPILLARY_INVALID_INPUT).
   */
  resume(checkpoint: unknown): void {
    if (!this.resumable) throw new MapillaryError('MAPILLARY_INVALID_INPUT', 'Only area searches can resume from a checkpoint');
    const cp = readCheckpoint(checkpoint, this.resumable.search, this.resumable.areas);
    this.resumeFrom = cp;
    this.query = cp.query;
    this.stats.resumed = { ...cp.done };
    this.stats.cells = { done: cp.done.cells, total: cp.plan.total, skipped: cp.plan.skipped };
  }

  /**
   * Makes the walk harvest only these cells of its area (a job of a plan, say): each must be of
   * one of the search's areas and lie within its box, or MAPILLARY_INVALID_INPUT. Items on their
   * edges are owned as in the whole area's harvest.
   */
  only(cells: unknown): void {
    if (!this.resumable) throw new MapillaryError('MAPILLARY_INVALID_INPUT', 'Only area searches can harvest given cells');
    const { search, areas, boxes, queries } = this.resumable;
    if (queries > 1) throw new MapillaryError('MAPILLARY_INVALID_INPUT', 'A search with long id lists (sent in several requests) cannot harvest given cells');
    const list = readCells(cells, areas, 'cells', boxes);
    this.resumeFrom = {
      version: 1, search, query: 0, grid: areas, cell: 0, cells: list,
      done: { items: 0, pages: 0, cells: 0 }, plan: { total: list.length, skipped: 0 },
    };
    this.stats.cells = { done: 0, total: list.length, skipped: 0 };
  }

  /** Where the area search of the current query starts (only the query a checkpoint was taken in resumes). */
  startOf(areas: number): AreaStart | undefined {
    const cp = this.resumeFrom;
    if (!cp || cp.query !== this.query || cp.grid > areas) return undefined;
    return { grid: cp.grid, cell: cp.cell, cells: cp.cells.filter((c) => c.a < areas) };
  }

  /** Set by the area search being walked: what is left of it. */
  trackArea(left: () => AreaStart): void {
    this.areaLeft = left;
  }

  /**
   * What is left of the walk after the pages handed out so far: resuming from it asks only for
   * the cells not handed out. Undefined for walks that cannot resume (not area searches), and
   * once the walk has ended.
   */
  checkpoint(): Checkpoint | undefined {
    if (!this.resumable || this.stats.ended !== undefined) return undefined;
    const left = this.areaLeft?.() ?? this.startOf(this.resumable.areas) ?? { grid: 0, cell: 0, cells: [] };
    const before = this.stats.resumed ?? { items: 0, pages: 0, cells: 0 };
    const cells = this.stats.cells ?? { done: 0, total: 0, skipped: 0 };
    return {
      version: 1, search: this.resumable.search, query: this.query, grid: left.grid, cell: left.cell, cells: left.cells,
      done: { items: before.items + this.stats.items, pages: before.pages + this.stats.pages, cells: cells.done },
      plan: { total: cells.total, skipped: cells.skipped },
    };
  }

  retried(info: RetryInfo): void {
    this.stats.retries += 1;
    this.options.onRetry?.(info);
  }

  /** One area cell answered; a cut one adds its parts to the plan. */
  cellDone(parts = 0): void {
    const cells = (this.stats.cells ??= { done: 0, total: 0, skipped: 0 });
    cells.done += 1;
    cells.total += parts;
    if (cells.total < cells.done) cells.total = cells.done;
    this.options.onProgress?.(this.stats);
  }

  /** A part of a cut cell that misses the area's shape: never asked for. */
  cellSkipped(): void {
    const cells = (this.stats.cells ??= { done: 0, total: 0, skipped: 0 });
    cells.skipped += 1;
    cells.total -= 1;
  }

  warn(warning: HarvestWarning): void {
    this.stats.warnings.push(warning);
    this.options.onWarning?.(warning);
  }

  /** Makes a page of `items`, cut to the item cap, and counts its items (its index is set when it is emitted). */
  page<T>(items: T[], warnings: HarvestWarning[] = [], bbox?: BBox, positions?: Float64Array): Page<T> {
    const room = this.maxItems - this.stats.items;
    const kept = items.length > room ? items.slice(0, room) : items;
    this.stats.items += kept.length;
    const page: Page<T> = { items: kept, index: -1, warnings };
    if (bbox) page.bbox = bbox;
    if (positions) page.positions = 2 * kept.length < positions.length ? positions.subarray(0, 2 * kept.length) : positions;
    return page;
  }

  /** Cancels the walk's requests still in flight. */
  cancel(): void {
    this.link.abort();
  }

  /** Ends the walk: cancels whatever is still in flight and detaches from outer signals. */
  finish(ended: NonNullable<WalkStats['ended']>): void {
    if (this.stats.ended === undefined) {
      this.stats.ended = ended;
      this.stats.durationMs = Date.now() - this.stats.startedAt;
    }
    this.cancel();
    this.link.dispose();
  }
}

/**
 * An async iterable of pages with live statistics. Iterate it once with `for await`; breaking
 * out of the loop cancels the requests still in flight.
 */
export class PageStream<T> implements AsyncIterable<Page<T>> {
  private started = false;

  /** `keepEmpty`: emit pages without items too (a detections walk gives one page per image, even with none). */
  constructor(
    private readonly walk: Walk,
    private readonly source: (walk: Walk) => AsyncGenerator<Page<T>, void, undefined>,
    private readonly options: { keepEmpty?: boolean } = {},
  ) {}

  get stats(): Readonly<WalkStats> {
    return this.walk.stats;
  }

  /** The search's digest, for area searches (which can resume): what a checkpoint belongs to. */
  get search(): string | undefined {
    return this.walk.resumable?.search;
  }

  /**
   * Resumes the harvest from a checkpoint of the same search (before iterating): only the cells
   * it lists as left are asked for. Throws MAPILLARY_INVALID_INPUT for a checkpoint that is not
   * one of this search, or when the stream was started already.
   */
  resume(checkpoint: unknown): this {
    if (this.started) throw new MapillaryError('MAPILLARY_INVALID_INPUT', 'A page stream resumes from a checkpoint before it is iterated');
    this.walk.resume(checkpoint);
    return this;
  }

  /**
   * The cells of the search's plan (those of its grid that meet the area, in order), without a
   * request, with the search's parameters and digest: each cell can be harvested apart with
   * `only` on a stream of the same search (in another process, say), and together they give
   * every item exactly once. Undefined for searches that are not of an area.
   */
  plan(): { search: string; params: Record<string, unknown>; cells: CheckpointCell[] } | undefined {
    const r = this.walk.resumable;
    // The search as given (a copy, as JSON carries it): another process makes the same search from it.
    return r ? { search: r.search, params: JSON.parse(JSON.stringify(r.params)) as Record<string, unknown>, cells: r.plan() } : undefined;
  }

  /**
   * Harvests only these cells of the plan (before iterating): see `plan`. Throws
   * MAPILLARY_INVALID_INPUT for cells that are not of this search's area.
   */
  only(cells: unknown): this {
    if (this.started) throw new MapillaryError('MAPILLARY_INVALID_INPUT', 'A page stream is given its cells before it is iterated');
    this.walk.only(cells);
    return this;
  }

  /**
   * What is left after the pages handed out so far, as JSON-ready data: give it to `resume` of a
   * new stream of the same search to go on from there (after a restart, say). Taken between
   * pages (in the loop's body), it leaves out every page handed out before, and only those.
   * Undefined for searches that cannot resume and once the walk has ended.
   */
  checkpoint(): Checkpoint | undefined {
    return this.walk.checkpoint();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Page<T>, void, undefined> {
    if (this.started) throw new MapillaryError('MAPILLARY_INVALID_INPUT', 'A Mapillary page stream can be iterated only once');
    this.started = true;
    const walk = this.walk;
    let ended: NonNullable<WalkStats['ended']> = 'aborted';
    try {
      for await (const page of this.source(walk)) {
        if (page.items.length > 0 || page.warnings.length > 0 || this.options.keepEmpty) {
          page.index = (walk.stats.resumed?.pages ?? 0) + walk.stats.pages++;
          yield page;
        }
        if (walk.full) {
          ended = 'max-items';
          return;
        }
      }
      ended = 'complete';
    } catch (error) {
      ended = walk.signal.aborted && (!isMapillaryError(error) || error.code === 'MAPILLARY_ABORTED') ? 'aborted' : 'error';
      throw error;
    } finally {
      walk.finish(ended);
    }
  }

  /** Every item of every page, in order. */
  async *items(): AsyncGenerator<T, void, undefined> {
    for await (const page of this) yield* page.items;
  }

  /** Collects every item (the walk's caps still apply). */
  async toArray(): Promise<T[]> {
    const out: T[] = [];
    for await (const page of this) out.push(...page.items);
    return out;
  }
}
