/**
 * Bounding boxes: the type and small helpers (parsing an area lives in parse/area.ts).
 */
export type BBox = readonly [minLon: number, minLat: number, maxLon: number, maxLat: number];

/** Area in square degrees. */
export function bboxArea(b: BBox): number {
  return (b[2] - b[0]) * (b[3] - b[1]);
}

/** "minLon,minLat,maxLon,maxLat" in the shortest form that reads back to the same numbers. */
export function formatBBox(b: BBox): string {
  return b.map(String).join(',');
}

/** Whether the point lies in the box, edges included. */
export function containsPoint(b: BBox, lon: number, lat: number): boolean {
  return lon >= b[0] && lon <= b[2] && lat >= b[1] && lat <= b[3];
}
