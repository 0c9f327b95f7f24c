/**
 * Splitting an area into cells small enough for the v4 searches (boxes under 0.01 square
 * degrees), and the ownership rule that makes every item come out of exactly one cell.
 */
import type { BBox } from './bbox';

/** Boundary i of n between min and max; one formula so neighbours share bit-identical edges. */
function boundary(min: number, max: number, i: number, n: number): number {
  return i === n ? max : min + ((max - min) * i) / n;
}

/**
 * A lazy grid of cells tiling `box`, each of area strictly below `maxCellArea`, as square as
 * the box allows: the shorter side sets the cell size, the longer side is cut into as few
 * pieces as the area limit permits.
 */
export function gridCells(box: BBox, maxCellArea: number): { count: number; cells(): Generator<BBox> } {
  if (!(maxCellArea > 0 && Number.isFinite(maxCellArea))) throw new RangeError(`maxCellArea must be a positive number, got ${maxCellArea}`);
  const [minLon, minLat, maxLon, maxLat] = box;
  const width = maxLon - minLon;
  const height = maxLat - minLat;
  const limit = maxCellArea * 0.999; // margin for rounding of the computed edges
  const side = Math.sqrt(limit);
  const shortCount = Math.max(1, Math.ceil(Math.min(width, height) / side));
  const shortSide = Math.min(width, height) / shortCount;
  const longCount = Math.max(1, Math.ceil((Math.max(width, height) * shortSide) / limit));
  const [cols, rows] = width <= height ? [shortCount, longCount] : [longCount, shortCount];
  return {
    count: cols * rows,
    *cells(): Generator<BBox> {
      for (let r = 0; r < rows; r++) {
        const south = boundary(minLat, maxLat, r, rows);
        const north = boundary(minLat, maxLat, r + 1, rows);
        for (let c = 0; c < cols; c++) {
          yield [boundary(minLon, maxLon, c, cols), south, boundary(minLon, maxLon, c + 1, cols), north];
        }
      }
    },
  };
}

/** The four quarters of a box (SW, SE, NW, NE), tiling it exactly. */
export function splitInFour(box: BBox): [BBox, BBox, BBox, BBox] {
  const [w, s, e, n] = box;
  const midLon = boundary(w, e, 1, 2);
  const midLat = boundary(s, n, 1, 2);
  return [[w, s, midLon, midLat], [midLon, s, e, midLat], [w, midLat, midLon, n], [midLon, midLat, e, n]];
}

/**
 * Whether `cell` (a leaf of a tiling of `area`) owns the point. Cells own [minLon, maxLon) x
 * [minLat, maxLat), closed on the outer max edges of `area`; points outside `area` are first
 * clamped into it. So each point is owned by exactly one leaf.
 */
export function ownsPoint(cell: BBox, area: BBox, lon: number, lat: number): boolean {
  const x = Math.min(Math.max(lon, area[0]), area[2]);
  const y = Math.min(Math.max(lat, area[1]), area[3]);
  const inLon = x >= cell[0] && (x < cell[2] || (x === cell[2] && cell[2] === area[2]));
  const inLat = y >= cell[1] && (y < cell[3] || (y === cell[3] && cell[3] === area[3]));
  return inLon && inLat;
}

/** The shorter side of a box, in degrees. */
export function cellSide(b: BBox): number {
  return Math.min(b[2] - b[0], b[3] - b[1]);
}
