/**
 * Decoding of Mapillary v4 detection geometries: a base64 Mapbox Vector Tile with one layer
 * `mpy-or` holding one polygon, in tile coordinates with the origin at the top left of the image.
 */
import { MalformedResponseError } from '../errors';
import { describeValue } from '../parse/values';
import { vectorTileLibraries } from './vector-tile';

export interface DecodedDetectionGeometry {
  type: 'Polygon' | 'MultiPolygon';
  /** The layer's extent: tile coordinates run from 0 to extent across the image. */
  extent: number;
  /** GeoJSON-style closed rings in image fractions: x and y from 0 (left, top) to 1 (right, bottom). */
  normalized: number[][][] | number[][][][];
  /** The same in pixels, when the image width and height are known. */
  pixels?: number[][][] | number[][][][];
}

const LAYER = 'mpy-or';
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;
const POLYGON = 3;


function malformed(problem: string, cause?: unknown): MalformedResponseError {
  return new MalformedResponseError(`Detection geometry ${problem}`, cause === undefined ? undefined : { cause });
}

function toBytes(base64: unknown): Uint8Array {
  const text = typeof base64 === 'string' ? base64.trim() : '';
  if (!BASE64.test(text) || text.length % 4 === 1) {
    throw malformed(`must be a base64-encoded vector tile; got ${describeValue(base64)}`);
  }
  return Buffer.from(text, 'base64');
}

/** Decode a detection's `geometry`; with the image `size`, also give the polygon in pixels. */
export async function decodeDetectionGeometry(
  base64: string,
  size?: { width?: number; height?: number },
): Promise<DecodedDetectionGeometry> {
  const bytes = toBytes(base64);
  const [{ VectorTile, classifyRings }, { PbfReader }] = await vectorTileLibraries();

  let layers: InstanceType<typeof VectorTile>['layers'];
  try {
    layers = new VectorTile(new PbfReader(bytes)).layers;
  } catch (err) {
    throw malformed('is not a valid vector tile (bad protobuf data)', err);
  }
  const names = Object.keys(layers);
  const layer = layers[LAYER] ?? (names.length === 1 ? layers[names[0]] : undefined);
  if (layer === undefined) {
    throw malformed(`has no "${LAYER}" layer; found ${names.length === 0 ? 'no layers' : `layers ${describeValue(names)}`}`);
  }
  const extent = layer.extent;
  if (!Number.isInteger(extent) || extent <= 0) throw malformed(`layer has an invalid extent ${describeValue(extent)}`);

  let polygons: Array<Array<Array<{ x: number; y: number }>>> = [];
  try {
    for (let i = 0; i < layer.length && polygons.length === 0; i++) {
      const feature = layer.feature(i);
      if (feature.type === POLYGON) polygons = classifyRings(feature.loadGeometry()).filter((rings) => rings.length > 0);
    }
  } catch (err) {
    throw malformed('has a feature that cannot be read (bad protobuf data)', err);
  }
  if (polygons.length === 0) throw malformed(`has no polygon in layer "${layer.name}"`);

  const scale = (sx: number, sy: number) => polygons.map((rings) => rings.map((ring) => {
    const points = ring.map((p) => [(p.x / extent) * sx, (p.y / extent) * sy]);
    const [first, last] = [ring[0], ring[ring.length - 1]];
    if (first.x !== last.x || first.y !== last.y) points.push([...points[0]]);
    return points;
  }));
  const single = polygons.length === 1;
  const pick = (coords: number[][][][]) => (single ? coords[0] : coords);
  const result: DecodedDetectionGeometry = { type: single ? 'Polygon' : 'MultiPolygon', extent, normalized: pick(scale(1, 1)) };
  const { width, height } = size ?? {};
  if (typeof width === 'number' && typeof height === 'number' && width > 0 && height > 0 && Number.isFinite(width * height)) {
    result.pixels = pick(scale(width, height));
  }
  return result;
}
