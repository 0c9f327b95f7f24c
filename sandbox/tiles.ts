/**
 * Coverage vector tiles (`/tiles/maps/vtp/mly1_public/2/{z}/{x}/{y}?access_token=`, Mapillary's own
 * path below its tiles host) and thumbnails.
 * Zoom 14 tiles hold an `image` layer with one point per image (captured_at, compass_angle,
 * id, sequence_id, organization_id when set, is_pano); other zooms are empty tiles.
 */
import { PbfWriter } from 'pbf';
import { encode as encodeJpeg } from 'jpeg-js';
import type { BBox, Image, World } from './data';
import { errors, json, type Reply } from './http';
import type { OAuth } from './oauth';
import { THUMB_SIZES, thumbSignature } from './entities';

const EXTENT = 4096;
const IMAGE_ZOOM = 14;
type Value = string | number | boolean;
interface PointFeature { id: number; x: number; y: number; tags: number[] }

const zigzag = (n: number): number => (n << 1) ^ (n >> 31);

/** Web Mercator tile coordinates (fractional) of a position. */
function tileXY(lon: number, lat: number, z: number): [number, number] {
  const n = 2 ** z;
  const rad = (lat * Math.PI) / 180;
  return [((lon + 180) / 360) * n, ((1 - Math.asinh(Math.tan(rad)) / Math.PI) / 2) * n];
}

function writeValue(value: Value, pbf: PbfWriter): void {
  if (typeof value === 'string') pbf.writeStringField(1, value);
  else if (typeof value === 'boolean') pbf.writeBooleanField(7, value);
  else if (Number.isInteger(value)) pbf.writeVarintField(5, value);
  else pbf.writeDoubleField(3, value);
}

function writeFeature(feature: PointFeature, pbf: PbfWriter): void {
  pbf.writeVarintField(1, feature.id);
  pbf.writePackedVarint(2, feature.tags);
  pbf.writeVarintField(3, 1); // Point
  pbf.writePackedVarint(4, [(1 << 3) | 1, zigzag(feature.x), zigzag(feature.y)]); // MoveTo(1)
}

/** An MVT with one `image` layer (version 2, extent 4096); no bytes when there are no images. */
function encodeImageTile(images: Image[], z: number, x: number, y: number): Buffer {
  if (images.length === 0) return Buffer.alloc(0);
  const keys = new Map<string, number>();
  const values = new Map<string, [number, Value]>();
  const keyIndex = (key: string): number => keys.get(key) ?? keys.set(key, keys.size).size - 1;
  const valueIndex = (value: Value): number => {
    const id = `${typeof value}:${value}`;
    return (values.get(id) ?? values.set(id, [values.size, value]).get(id)!)[0];
  };
  const features = images.map((image): PointFeature => {
    const [fx, fy] = tileXY(...image.geometry.coordinates, z);
    const properties: Record<string, Value> = {
      captured_at: image.captured_at, compass_angle: image.compass_angle, id: Number(image.id),
      sequence_id: image.sequence, is_pano: image.is_pano,
    };
    if (image.organization_id !== undefined) properties.organization_id = Number(image.organization_id);
    const tags = Object.entries(properties).flatMap(([key, value]) => [keyIndex(key), valueIndex(value)]);
    return { id: Number(image.id), x: Math.round((fx - x) * EXTENT), y: Math.round((fy - y) * EXTENT), tags };
  });
  const pbf = new PbfWriter();
  pbf.writeMessage(3, (layer: { features: PointFeature[] }, out: PbfWriter) => {
    out.writeVarintField(15, 2);
    out.writeStringField(1, 'image');
    for (const feature of layer.features) out.writeMessage(2, writeFeature, feature);
    for (const key of keys.keys()) out.writeStringField(3, key);
    for (const [, value] of values.values()) out.writeMessage(4, writeValue, value);
    out.writeVarintField(5, EXTENT);
  }, { features });
  return Buffer.from(pbf.finish());
}

const encoded = new WeakMap<World, Map<string, Buffer>>();

/** GET /tiles/...: the token must be in the query (a header alone is refused with 403). */
export function tile(world: World, oauth: OAuth, path: string, query: URLSearchParams): Reply {
  const match = /^\/maps\/vtp\/mly1_public\/2\/(\d{1,2})\/(\d+)\/(\d+)$/.exec(path);
  if (!oauth.authenticate(query.get('access_token'))) throw errors.invalidToken(403);
  const [z, x, y] = match ? match.slice(1).map(Number) : [];
  if (!match || z > 22 || x >= 2 ** z || y >= 2 ** z) return json(404, { message: 'No such tile' });
  // Tiles are static files on Mapillary's side: each is made once per world, then served as is.
  const cache = encoded.get(world) ?? encoded.set(world, new Map()).get(world)!;
  const key = `${world.version}:${z}/${x}/${y}`;
  const cached = cache.get(key);
  if (cached) return { status: 200, headers: { 'Content-Type': 'application/x-protobuf' }, body: cached };
  const n = 2 ** z;
  const lat = (row: number): number => (Math.atan(Math.sinh(Math.PI * (1 - (2 * row) / n))) * 180) / Math.PI;
  const margin = 1e-6;
  const near: BBox = [(x / n) * 360 - 180 - margin, lat(y + 1) - margin, ((x + 1) / n) * 360 - 180 + margin, lat(y) + margin];
  const inside = z !== IMAGE_ZOOM ? [] : world.imagesIn(near).filter((image) => {
    const [fx, fy] = tileXY(...image.geometry.coordinates, z);
    return Math.floor(fx) === x && Math.floor(fy) === y;
  });
  const body = encodeImageTile(inside, z, x, y);
  cache.set(key, body);
  return { status: 200, headers: { 'Content-Type': 'application/x-protobuf' }, body };
}

/** The sandbox's pictures: width and height of each size (its originals are 2560 px wide). */
export const PICTURE_DIMENSIONS: Record<string, [number, number]> = { 256: [256, 192], 1024: [1024, 768], 2048: [2048, 1536], original: [2560, 1920] };
const pictures = new Map<string, Buffer>();

/** A real JPEG of the size (a grey gradient, encoded once per size). */
export function pictureJpeg(size: string): Buffer {
  let jpeg = pictures.get(size);
  if (!jpeg) {
    const [width, height] = PICTURE_DIMENSIONS[size]!;
    const data = Buffer.alloc(width * height * 4);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const i = 4 * (y * width + x);
        data[i] = data[i + 1] = data[i + 2] = 64 + Math.floor((128 * (x + y)) / (width + height));
        data[i + 3] = 255;
      }
    }
    jpeg = Buffer.from(encodeJpeg({ data, width, height }, 60).data);
    pictures.set(size, jpeg);
  }
  return jpeg;
}

/** GET /thumbs/{id}/{size}.jpg?exp=...&sig=...: like the CDN, a wrong signature or an expired URL is refused (403). */
export function thumbnail(world: World, path: string, query: URLSearchParams): Reply {
  const [, id, size] = /^\/(\d+)\/(\w+)\.jpg$/.exec(path) ?? [];
  if (!id || !world.image(id) || !THUMB_SIZES.includes(size!)) return { status: 404, body: 'Not found' };
  const expires = Number(query.get('exp'));
  if (!Number.isSafeInteger(expires) || query.get('sig') !== thumbSignature(id, size!, expires)) return { status: 403, body: 'URL signature mismatch' };
  if (Date.now() / 1000 > expires) return { status: 403, body: 'URL signature expired' };
  return { status: 200, headers: { 'Content-Type': 'image/jpeg', 'Cache-Control': 'max-age=3600' }, body: pictureJpeg(size!) };
}
