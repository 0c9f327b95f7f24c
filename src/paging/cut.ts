/**
 * Cutting a cell into parts that each hold about the same number of items: along its longer
 * side (in metres, not degrees), at the quantiles of the positions known inside it, or evenly
 * when none are known. Neighbouring parts share edges bit for bit (one number is computed for
 * each cut and used on both sides), so the ownership rule of ../geo/cells still gives every
 * item to exactly one part.
 */
import type { BBox } from '../geo/bbox';

/** Positions as [lon0, lat0, lon1, lat1, ...]. */
export type Positions = ArrayLike<number>;

export interface Part {
  box: BBox;
  /** Positions known in this part (from a tile, or from a cut answer): its share of the estimate. */
  known: number;
}

/**
 * `parts` boxes tiling `cell`, none with a side under `minSide`; fewer when the cell is too small
 * for that many. `points` (positions inside the cell) place the cuts; without them, cuts are even.
 */
export function cutCell(cell: BBox, parts: number, minSide: number, points?: Positions): Part[] {
  const inside: number[] = [];
  if (points) {
    for (let i = 0; i + 1 < points.length; i += 2) {
      const lon = points[i]!;
      const lat = points[i + 1]!;
      if (lon >= cell[0] && lon <= cell[2] && lat >= cell[1] && lat <= cell[3]) inside.push(lon, lat);
    }
  }
  const out: Part[] = [];
  cut(cell, Math.max(1, Math.floor(parts)), minSide, inside, points !== undefined, out);
  return out;
}

function cut(box: BBox, parts: number, minSide: number, points: number[], placed: boolean, out: Part[]): void {
  const [w, s, e, n] = box;
  const midLat = (s + n) / 2;
  const width = (e - w) * Math.cos((midLat * Math.PI) / 180);
  const height = n - s;
  const alongLon = width >= height;
  const span = alongLon ? e - w : n - s;
  if (parts <= 1 || span / 2 < minSide) {
    out.push({ box, known: points.length / 2 });
    return;
  }
  const first = Math.floor(parts / 2);
  const share = first / parts;
  const axis = alongLon ? 0 : 1;
  const min = alongLon ? w : s;
  const max = alongLon ? e : n;
  let at = min + span * share;
  const count = points.length / 2;
  if (placed && count >= 2) {
    // The coordinate below which `share` of the known positions lie, halfway between neighbours.
    const values = new Float64Array(count);
    for (let i = 0; i < count; i++) values[i] = points[2 * i + axis]!;
    values.sort();
    const k = Math.min(count - 1, Math.max(1, Math.round(count * share)));
    at = (values[k - 1]! + values[k]!) / 2;
  }
  // Keep both sides at least minSide wide (and the cut strictly inside the box).
  at = Math.min(Math.max(at, min + minSide), max - minSide);
  if (!(at > min && at < max)) {
    out.push({ box, known: count });
    return;
  }
  const low: BBox = alongLon ? [w, s, at, n] : [w, s, e, at];
  const high: BBox = alongLon ? [at, s, e, n] : [w, at, e, n];
  const lowPoints: number[] = [];
  const highPoints: number[] = [];
  for (let i = 0; i + 1 < points.length; i += 2) {
    (points[i + axis]! < at ? lowPoints : highPoints).push(points[i]!, points[i + 1]!);
  }
  cut(low, first, minSide, lowPoints, placed, out);
  cut(high, parts - first, minSide, highPoints, placed, out);
}
