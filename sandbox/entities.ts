/**
 * v4 entities as lazily evaluated fields, the `fields=` selection (comma list, nested with
 * dots: `detections.value`) and the projection of an entity onto a selection. Every object
 * carries its `id`; an empty selection gives the entity's default fields.
 */
import { createHash } from 'node:crypto';
import type { Creator, Detection, Image, MapFeature, World } from './data';
import { ParamError } from './http';

export interface EntityContext {
  world: World;
  origin: string;
  /** How long a picture URL stays valid (the CDN refuses it after that), in ms; default 10 minutes. */
  thumbTtlMs?: number;
}

export class Node {
  constructor(readonly type: string, readonly fields: Record<string, () => unknown>, readonly defaults: string[] = []) {}
}

/** A connection (`{"data":[...]}`) such as `detections` or `images`. */
class Edge {
  constructor(readonly nodes: Node[]) {}
}

export type FieldTree = Map<string, FieldTree>;

export function parseFields(text: string | null): FieldTree {
  const tree: FieldTree = new Map();
  for (const path of (text ?? '').split(',').map((f) => f.trim()).filter(Boolean)) {
    if (!/^[a-z0-9_]+(\.[a-z0-9_]+)*$/.test(path)) throw new ParamError(`Syntax error in fields '${text}' near '${path}'`);
    let level = tree;
    for (const name of path.split('.')) {
      if (!level.has(name)) level.set(name, new Map());
      level = level.get(name)!;
    }
  }
  return tree;
}

export function project(node: Node, tree: FieldTree): Record<string, unknown> {
  const wanted = tree.size > 0 ? [...tree] : node.defaults.map((name): [string, FieldTree] => [name, new Map()]);
  const out: Record<string, unknown> = {};
  for (const [name, sub] of wanted) {
    const get = node.fields[name];
    if (!get) throw new ParamError(`Tried accessing nonexisting field (${name}) on node type (${node.type})`);
    const value = get();
    out[name] = value instanceof Node ? project(value, sub) : value instanceof Edge ? { data: value.nodes.map((n) => project(n, sub)) } : value;
  }
  if (!('id' in out)) out.id = node.fields.id();
  return out;
}

export const THUMB_SIZES = ['256', '1024', '2048', 'original'];
export const thumbSignature = (id: string, size: string, expires: number): string =>
  createHash('sha256').update(`thumb:${id}:${size}:${expires}`).digest('hex').slice(0, 24);

export function userNode(user: Creator): Node {
  return new Node('User', { id: () => user.id, username: () => user.username }, ['username']);
}

/** Plain v4 fields are read from the ground truth as they are; connections are built here. */
const plainFields = <T extends object>(entity: T, names: Array<keyof T & string>): Record<string, () => unknown> =>
  Object.fromEntries(names.map((name) => [name, () => entity[name]]));

const IMAGE_PLAIN_FIELDS = [
  'id', 'altitude', 'camera_type', 'captured_at', 'compass_angle', 'computed_altitude', 'computed_compass_angle',
  'computed_geometry', 'exif_orientation', 'geometry', 'height', 'is_pano', 'make', 'model', 'quality_score',
  'sequence', 'width',
] as const;

/** An image's fields, per sandbox: made once per image on first use (area searches project thousands of them). */
const imageFields = new WeakMap<EntityContext, WeakMap<Image, Record<string, () => unknown>>>();

export function imageNode(image: Image, ctx: EntityContext, defaults: string[] = []): Node {
  const cache = imageFields.get(ctx) ?? imageFields.set(ctx, new WeakMap()).get(ctx)!;
  let fields = cache.get(image);
  if (!fields) {
    // A signed URL that expires, made when asked for (as Mapillary's CDN URLs).
    const thumb = (size: string) => () => {
      const expires = Math.floor((Date.now() + (ctx.thumbTtlMs ?? 600_000)) / 1000);
      return `${ctx.origin}/thumbs/${image.id}/${size}.jpg?exp=${expires}&sig=${thumbSignature(image.id, size, expires)}`;
    };
    fields = {
      ...plainFields(image, [...IMAGE_PLAIN_FIELDS]),
      creator: () => userNode(image.creator),
      detections: () => new Edge(image.detections.map((d) => detectionNode(d, ctx))),
      thumb_256_url: thumb('256'),
      thumb_1024_url: thumb('1024'),
      thumb_2048_url: thumb('2048'),
      thumb_original_url: thumb('original'),
    };
    cache.set(image, fields);
  }
  return new Node('Image', fields, defaults);
}

export function detectionNode(detection: Detection, ctx: EntityContext): Node {
  return new Node('Detection', {
    ...plainFields(detection, ['id', 'created_at', 'value']),
    geometry: () => ctx.world.detectionGeometry(detection),
    image: () => imageNode(ctx.world.image(detection.image_id)!, ctx, ['geometry']),
  });
}

export function mapFeatureNode(feature: MapFeature, ctx: EntityContext): Node {
  return new Node('MapFeature', {
    ...plainFields(feature, ['id', 'aligned_direction', 'first_seen_at', 'geometry', 'last_seen_at', 'object_type', 'object_value']),
    images: () => new Edge(ctx.world.imagesOf(feature).map((image) => imageNode(image, ctx, ['geometry']))),
  });
}

/** The node of any entity id, or undefined. */
export function nodeById(id: string, ctx: EntityContext): Node | undefined {
  const image = ctx.world.image(id);
  if (image) return imageNode(image, ctx);
  const feature = ctx.world.mapFeature(id);
  if (feature) return mapFeatureNode(feature, ctx);
  const detection = ctx.world.detection(id);
  return detection && detectionNode(detection, ctx);
}
