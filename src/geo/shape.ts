/**
 * An area as a shape: polygons with holes (a city boundary, a district, a corridor). Cells are
 * asked for only where they meet the shape, and items are kept only inside it, boundary
 * included, holes excluded. The geometry is Turf's (well-kept, tested), not hand-written.
 */
import booleanIntersects from '@turf/boolean-intersects';
import booleanPointInPolygon from '@turf/boolean-point-in-polygon';
import { type BBox, containsPoint } from './bbox';

/** A polygon's rings: the outer ring first, then its holes; each a closed list of [lon, lat]. */
export type PolygonCoordinates = number[][][];

interface Part {
  polygon: { type: 'Polygon'; coordinates: PolygonCoordinates };
  /** The polygon's rings as lines: its boundary, holes included. */
  boundary: { type: 'MultiLineString'; coordinates: PolygonCoordinates };
  box: BBox;
}

/** Where a cell lies: wholly outside the shape, wholly inside it, or across its boundary. */
export type Placement = 'outside' | 'inside' | 'boundary';

const boxesMeet = (a: BBox, b: BBox): boolean => a[0] <= b[2] && b[0] <= a[2] && a[1] <= b[3] && b[1] <= a[3];

export class Shape {
  private readonly parts: Part[];

  constructor(polygons: PolygonCoordinates[]) {
    this.parts = polygons.map((coordinates) => ({
      polygon: { type: 'Polygon', coordinates },
      boundary: { type: 'MultiLineString', coordinates },
      box: ringBox(coordinates[0]!),
    }));
    this.vertices = polygons.reduce((sum, rings) => sum + rings.reduce((n, ring) => n + ring.length, 0), 0);
  }

  /** Positions in all rings: what one cell or point test costs. */
  readonly vertices: number;

  /** Its polygons as text: equal for equal shapes (a search's digest holds it). */
  key(): string {
    return JSON.stringify(this.parts.map((p) => p.polygon.coordinates));
  }

  /**
   * The boxes to cut into cells: the polygons' boxes, merged where they meet in longitude, so
   * the boxes never overlap or touch (an item is then in at most one of them). A shape made of
   * parts on both sides of the antimeridian gives two boxes, not a band around the world.
   */
  boxes(): BBox[] {
    const sorted = this.parts.map((p) => p.box).sort((a, b) => a[0] - b[0]);
    const merged: [number, number, number, number][] = [];
    for (const box of sorted) {
      const last = merged.at(-1);
      if (last && box[0] <= last[2]) {
        last[1] = Math.min(last[1], box[1]);
        last[2] = Math.max(last[2], box[2]);
        last[3] = Math.max(last[3], box[3]);
      } else {
        merged.push([box[0], box[1], box[2], box[3]]);
      }
    }
    return merged;
  }

  /**
   * Where the box (a cell) lies. A cell that no boundary (outer ring or hole) touches is wholly
   * inside or wholly outside, as its centre is: its items then need no test of their own.
   */
  place(box: BBox): Placement {
    const cell = { type: 'Polygon' as const, coordinates: [[[box[0], box[1]], [box[2], box[1]], [box[2], box[3]], [box[0], box[3]], [box[0], box[1]]]] };
    const near = this.parts.filter((part) => boxesMeet(part.box, box));
    if (near.some((part) => booleanIntersects(cell, part.boundary))) return 'boundary';
    const [lon, lat] = [(box[0] + box[2]) / 2, (box[1] + box[3]) / 2];
    return near.some((part) => booleanPointInPolygon([lon, lat], part.polygon)) ? 'inside' : 'outside';
  }

  /** Whether the point is in the shape: on a boundary counts as in, in a hole as out. */
  contains(lon: number, lat: number): boolean {
    return this.parts.some((part) => containsPoint(part.box, lon, lat) && booleanPointInPolygon([lon, lat], part.polygon));
  }
}

function ringBox(ring: number[][]): BBox {
  let [w, s, e, n] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const [lon, lat] of ring) {
    w = Math.min(w, lon!);
    s = Math.min(s, lat!);
    e = Math.max(e, lon!);
    n = Math.max(n, lat!);
  }
  return [w, s, e, n];
}
