/**
 * What coverage tiles tell about a cell before it is asked for: Mapillary's zoom-14 tiles hold
 * the position of every image, so the tiles over a cell count its images exactly (or at least,
 * when the search has filters a tile cannot apply; then the search does not use them). Tiles
 * cost requests of their own, with a daily budget: a walk fetches one only where it pays, and
 * each at most once (they are kept for the walk, a bounded number of them).
 */
import { type BBox, bboxArea } from '../geo/bbox';
import { tileAt, tileBox, tileCount, tilesCovering } from '../geo/tiles';
import { AbortError, RequestLimitError } from '../errors';
import type { Positions } from './cut';
import type { Walk } from './walk';

export interface CoverageSource {
  zoom: number;
  /** The positions, [lon, lat, ...], of the items of this search in one tile (one request of the walk). */
  tile(x: number, y: number, walk: Walk): Promise<Positions>;
}

/** The part of a tile that meets a cell is cut in SQUARES x SQUARES squares to estimate its density. */
const SQUARES = 4;
/** Squares whose densities spread more than this (standard deviation / mean) make no estimate: too uneven. */
const MAX_SPREAD = 0.5;

/**
 * Tiles kept per walk, at most: 16 bytes per image (a tile of 10,000 images takes 160 KB; the
 * densest, 10 MB tiles, a few MB).
 */
const KEPT_TILES = 32;

interface Kept { box: BBox; positions: Positions }
/** A tile asked for: it settles with the tile, or with why it could not be had (never rejects). */
type Slot = Promise<{ kept: Kept; error?: undefined } | { kept?: undefined; error: unknown }>;

export class Coverage {
  private readonly tiles = new Map<string, Slot>();
  /** Set when a tile could not be had (an error): the walk goes on without them. */
  private broken = false;

  /** `failed`: told when tiles cannot be had (so that later walks do without them for a while). */
  constructor(private readonly source: CoverageSource, private readonly failed?: () => void) {}

  get usable(): boolean {
    return !this.broken;
  }

  /** How many tiles meet the cell that were not fetched yet. */
  missing(cell: BBox): number {
    if (this.broken) return Infinity;
    if (this.tiles.size === 0) return tileCount(cell, this.source.zoom);
    return tilesCovering(cell, this.source.zoom).filter(({ x, y }) => !this.tiles.has(`${x}/${y}`)).length;
  }

  /** Fetches every tile over the cell. False when tiles cannot be had. */
  async cover(cell: BBox, walk: Walk): Promise<boolean> {
    const wanted = tilesCovering(cell, this.source.zoom);
    return this.fetch(wanted, walk);
  }

  /** Fetches the tile at the cell's centre: a sample of its density. False when tiles cannot be had. */
  async probe(cell: BBox, walk: Walk): Promise<boolean> {
    const [x, y] = tileAt((cell[0] + cell[2]) / 2, (cell[1] + cell[3]) / 2, this.source.zoom);
    return this.fetch([{ x, y }], walk);
  }

  /** The positions in the cell, when every tile over it is at hand. */
  async positions(cell: BBox): Promise<number[] | undefined> {
    if (this.broken) return undefined;
    const wanted = tilesCovering(cell, this.source.zoom);
    const slots = wanted.map(({ x, y }) => this.tiles.get(`${x}/${y}`));
    if (slots.some((k) => k === undefined)) return undefined;
    const settled = await Promise.all(slots as Slot[]);
    if (settled.some((tile) => !tile.kept)) return undefined;
    const out: number[] = [];
    for (const { kept: tile } of settled) {
      const p = tile!.positions;
      for (let i = 0; i + 1 < p.length; i += 2) {
        if (p[i]! >= cell[0] && p[i]! <= cell[2] && p[i + 1]! >= cell[1] && p[i + 1]! <= cell[3]) out.push(p[i]!, p[i + 1]!);
      }
    }
    return out;
  }

  /**
   * The items the cell likely holds, from the tiles at hand that meet it: the part of the cell
   * they cover is cut in squares, and the median density of those squares is taken for the whole
   * cell, so that one very dense spot in a sampled tile does not count for the whole cell (the
   * part that holds the spot is counted with tiles when it does not fit). Undefined when no tile
   * meets it.
   */
  async estimate(cell: BBox): Promise<number | undefined> {
    if (this.broken || this.tiles.size === 0) return undefined;
    const densities: number[] = [];
    for (const { x, y } of tilesCovering(cell, this.source.zoom)) {
      const slot = this.tiles.get(`${x}/${y}`);
      const tile = slot && (await slot).kept;
      if (!tile) continue;
      const [w, s, e, n] = [Math.max(cell[0], tile.box[0]), Math.max(cell[1], tile.box[1]), Math.min(cell[2], tile.box[2]), Math.min(cell[3], tile.box[3])];
      if (e <= w || n <= s) continue;
      const counts = new Array<number>(SQUARES * SQUARES).fill(0);
      const p = tile.positions;
      for (let i = 0; i + 1 < p.length; i += 2) {
        const lon = p[i]!;
        const lat = p[i + 1]!;
        if (lon < w || lon > e || lat < s || lat > n) continue;
        const col = Math.min(SQUARES - 1, Math.floor(((lon - w) / (e - w)) * SQUARES));
        const row = Math.min(SQUARES - 1, Math.floor(((lat - s) / (n - s)) * SQUARES));
        counts[row * SQUARES + col]! += 1;
      }
      const square = ((e - w) * (n - s)) / (SQUARES * SQUARES);
      for (const count of counts) densities.push(count / square);
    }
    if (densities.length === 0) return undefined;
    densities.sort((a, b) => a - b);
    const mean = densities.reduce((sum, d) => sum + d, 0) / densities.length;
    const spread = Math.sqrt(densities.reduce((sum, d) => sum + (d - mean) ** 2, 0) / densities.length) / (mean || 1);
    if (spread > MAX_SPREAD) return undefined;
    return densities[Math.floor(densities.length / 2)]! * bboxArea(cell);
  }

  private async fetch(wanted: { x: number; y: number }[], walk: Walk): Promise<boolean> {
    if (this.broken) return false;
    const pending: Slot[] = [];
    for (const { x, y } of wanted) {
      const key = `${x}/${y}`;
      let slot = this.tiles.get(key);
      if (!slot) {
        walk.stats.tileRequests = (walk.stats.tileRequests ?? 0) + 1;
        slot = this.source.tile(x, y, walk).then(
          (positions) => ({ kept: { box: tileBox(x, y, this.source.zoom), positions } }),
          (error: unknown) => ({ error }),
        );
        this.tiles.set(key, slot);
        if (this.tiles.size > KEPT_TILES) this.tiles.delete(this.tiles.keys().next().value!);
      }
      pending.push(slot);
    }
    for (const { error } of await Promise.all(pending)) {
      if (error === undefined) continue;
      // An aborted walk, or one out of requests, ends; any other failure only ends the use of tiles.
      if (error instanceof AbortError || error instanceof RequestLimitError || walk.signal.aborted) throw error;
      if (!this.broken) {
        this.broken = true;
        this.tiles.clear();
        this.failed?.();
      }
      return false;
    }
    return true;
  }
}
