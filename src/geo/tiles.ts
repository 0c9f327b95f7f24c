/**
 * Web Mercator tiles (the x/y/z scheme of Mapillary's vector tiles): which tiles cover a box,
 * and where a tile lies in longitude and latitude.
 */
import type { BBox } from './bbox';

/** Mercator's latitude limit: tiles stop here. */
const MAX_LAT = 85.0511287798066;

/** The column and row of the tile holding a position at zoom `z`. */
export function tileAt(lon: number, lat: number, z: number): [x: number, y: number] {
  const n = 2 ** z;
  const clamped = Math.min(Math.max(lat, -MAX_LAT), MAX_LAT);
  const rad = (clamped * Math.PI) / 180;
  const x = Math.floor(((lon + 180) / 360) * n);
  const y = Math.floor(((1 - Math.asinh(Math.tan(rad)) / Math.PI) / 2) * n);
  return [Math.min(Math.max(x, 0), n - 1), Math.min(Math.max(y, 0), n - 1)];
}

/** The box a tile covers, [west, south, east, north] in degrees. */
export function tileBox(x: number, y: number, z: number): BBox {
  const n = 2 ** z;
  const lat = (row: number): number => (Math.atan(Math.sinh(Math.PI * (1 - (2 * row) / n))) * 180) / Math.PI;
  return [(x / n) * 360 - 180, lat(y + 1), ((x + 1) / n) * 360 - 180, lat(y)];
}

/** Position of a point given in tile units (0..extent from the tile's north-west corner). */
export function tilePoint(x: number, y: number, z: number, px: number, py: number, extent: number): [lon: number, lat: number] {
  const n = 2 ** z;
  const fx = (x + px / extent) / n;
  const fy = (y + py / extent) / n;
  return [fx * 360 - 180, (Math.atan(Math.sinh(Math.PI * (1 - 2 * fy))) * 180) / Math.PI];
}

/** The tiles at zoom `z` that meet the box (west to east, north to south); the box must not cross 180°. */
export function tilesCovering(box: BBox, z: number): { x: number; y: number }[] {
  const [x0, y0] = tileAt(box[0], box[3], z);
  const [x1, y1] = tileAt(box[2], box[1], z);
  const tiles: { x: number; y: number }[] = [];
  for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) tiles.push({ x, y });
  return tiles;
}

/** How many tiles at zoom `z` meet the box, without listing them. */
export function tileCount(box: BBox, z: number): number {
  const [x0, y0] = tileAt(box[0], box[3], z);
  const [x1, y1] = tileAt(box[2], box[1], z);
  return (x1 - x0 + 1) * (y1 - y0 + 1);
}
