/**
 * Test-side encoder for Mapillary detection geometries: a base64 Mapbox Vector Tile with one
 * layer `mpy-or` holding one Polygon feature tagged `type: "polygon"`, like the v4 API returns.
 */
import { PbfWriter } from 'pbf';

type Ring = Array<[number, number]>;

const MOVE_TO = 1;
const LINE_TO = 2;
const CLOSE_PATH = 7;

const command = (id: number, count: number): number => (count << 3) | id;
const zigzag = (n: number): number => (n << 1) ^ (n >> 31);

/** Shoelace area in tile coordinates (y down): positive for a ring that looks clockwise. */
function signedArea(ring: Ring): number {
  let sum = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    sum += ring[j][0] * ring[i][1] - ring[i][0] * ring[j][1];
  }
  return sum / 2;
}

/** MVT geometry commands; cursor deltas carry over from one ring to the next. */
function geometryCommands(rings: Ring[]): number[] {
  const out: number[] = [];
  let x = 0;
  let y = 0;
  rings.forEach((given, index) => {
    if (given.length < 3) throw new Error(`ring ${index} needs at least 3 points`);
    // Ring 0 is the exterior (positive area), later rings are holes (negative area).
    const wantPositive = index === 0;
    const ring = signedArea(given) > 0 === wantPositive ? given : [...given].reverse();
    ring.forEach(([px, py], i) => {
      if (!Number.isInteger(px) || !Number.isInteger(py)) throw new Error(`ring ${index} has a non-integer point`);
      if (i === 0) out.push(command(MOVE_TO, 1));
      else if (i === 1) out.push(command(LINE_TO, ring.length - 1));
      out.push(zigzag(px - x), zigzag(py - y));
      x = px;
      y = py;
    });
    out.push(command(CLOSE_PATH, 1));
  });
  return out;
}

/**
 * Encode one polygon (first ring exterior, the others holes) given as integer tile
 * coordinates, rings not closed. Winding is fixed up to follow the MVT spec.
 */
export function encodeDetectionGeometry(rings: Array<Array<[number, number]>>, extent = 4096): string {
  const geometry = geometryCommands(rings);
  const pbf = new PbfWriter();
  pbf.writeMessage(3, (_: null, layer: PbfWriter) => {
    layer.writeVarintField(15, 2); // version
    layer.writeStringField(1, 'mpy-or'); // name
    layer.writeMessage(2, (__: null, feature: PbfWriter) => {
      feature.writePackedVarint(2, [0, 0]); // tags: keys[0] = values[0]
      feature.writeVarintField(3, 3); // type: Polygon
      feature.writePackedVarint(4, geometry);
    }, null);
    layer.writeStringField(3, 'type'); // keys
    layer.writeMessage(4, (__: null, value: PbfWriter) => value.writeStringField(1, 'polygon'), null);
    layer.writeVarintField(5, extent);
  }, null);
  return Buffer.from(pbf.finish()).toString('base64');
}

/** Same, with points given in [0..1] image coordinates (rounded to the tile grid). */
export function encodeDetectionGeometryFromNormalized(rings: Array<Array<[number, number]>>, extent = 4096): string {
  return encodeDetectionGeometry(
    rings.map((ring) => ring.map(([x, y]): [number, number] => [Math.round(x * extent), Math.round(y * extent)])),
    extent,
  );
}
