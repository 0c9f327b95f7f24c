/**
 * The retired API v3 under /v3 (legacy mode): GeoJSON FeatureCollections paged only through
 * `Link` headers (`rel="first"`, `rel="next"` with an opaque `_next_page_token`). Requests need
 * `client_id`; an `Authorization: Bearer <user token>` header is optional but must be valid.
 * Like the real API, image_detections and map_features pages overlap by one item unless
 * `sort_by=key` is sent.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { type Detection, type Image, inBBox, type MapFeature, SANDBOX_CREDENTIALS, type World } from './data';
import {
  cursor, globMatcher, HttpError, json, newestFirst, ParamError, parseBBox, parseBool, parseLimit, parseList, parseTime,
  type Reply,
} from './http';
import type { OAuth } from './oauth';

export interface V3Context { world: World; oauth: OAuth; origin: string }

const DETECTION_LAYERS = ['trafficsigns', 'segmentations', 'instances'];
const FEATURE_LAYERS = ['trafficsigns', 'points', 'lines'];

const fail = (status: number, message: string): HttpError => new HttpError(json(status, { message }));

export function v3(ctx: V3Context, method: string, path: string, url: URL, headers: IncomingHttpHeaders): Reply {
  const query = url.searchParams;
  const clientId = query.get('client_id');
  if (clientId === null) throw fail(401, 'Missing client_id');
  if (clientId !== SANDBOX_CREDENTIALS.clientId) throw fail(401, `Invalid client_id '${clientId}'`);
  if (headers.authorization !== undefined) {
    const token = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization)?.[1];
    if (ctx.oauth.authenticate(token)?.kind !== 'user') throw fail(401, 'Invalid bearer token');
  }
  if (method !== 'GET') throw fail(405, `${method} is not allowed`);
  const sortByKey = query.get('sort_by') === 'key';
  try {
    if (query.has('sort_by') && !sortByKey) throw new ParamError(`Invalid sort_by '${query.get('sort_by')}': only 'key' is supported`);
    switch (path) {
      case '/images': return page(ctx, url, images(ctx.world, query, sortByKey), (i) => imageFeature(ctx.world, i), false);
      case '/image_detections': return page(ctx, url, detections(ctx.world, query, sortByKey), (d) => detectionFeature(ctx.world, d), !sortByKey);
      case '/map_features': return page(ctx, url, mapFeatures(ctx.world, query, sortByKey), (f) => mapFeatureFeature(ctx.world, f), !sortByKey);
      default: throw fail(404, `Unknown endpoint /v3${path}`);
    }
  } catch (error) {
    throw error instanceof ParamError ? fail(400, error.message) : error;
  }
}

/** One page; without `sort_by=key` the next page starts at this page's last item (the v3 bug). */
function page<T>(ctx: V3Context, url: URL, items: T[], render: (item: T) => unknown, overlap: boolean): Reply {
  const query = url.searchParams;
  const perPage = parseLimit(query.get('per_page'), 'per_page', 1000, 200);
  const token = query.get('_next_page_token');
  const start = token === null ? 0 : cursor.decode(token);
  const link = (next?: string): string => {
    const params = new URLSearchParams([...query].filter(([name]) => name !== '_next_page_token' && name !== 'client_id'));
    if (next !== undefined) params.set('_next_page_token', next);
    params.set('client_id', SANDBOX_CREDENTIALS.clientId);
    return `<${ctx.origin}${url.pathname}?${params}>`;
  };
  const end = start + perPage;
  const links = [`${link()}; rel="first"`];
  if (end < items.length) links.push(`${link(cursor.encode(overlap && perPage > 1 ? end - 1 : end))}; rel="next"`);
  return json(200, { type: 'FeatureCollection', features: items.slice(start, end).map(render) }, { Link: links.join(', ') });
}

/** Sorts by v3 key. */
const byKey = (world: World) => (a: { id: string }, b: { id: string }): number => {
  const [ka, kb] = [world.v3Key(a.id), world.v3Key(b.id)];
  return ka < kb ? -1 : ka > kb ? 1 : 0;
};
const iso = (ms: number): string => new Date(ms).toISOString();
const featureLayer = (feature: MapFeature): string => (feature.object_type === 'trafficsign' ? 'trafficsigns' : 'points');

function layersParam(query: URLSearchParams, allowed: string[]): string[] {
  const layers = parseList(query.get('layers')) ?? allowed;
  const unknown = layers.find((layer) => !allowed.includes(layer));
  if (unknown !== undefined) throw new ParamError(`Invalid layer '${unknown}': expected ${allowed.join(', ')}`);
  return layers;
}

function images(world: World, query: URLSearchParams, sortByKey: boolean): Image[] {
  const bbox = query.has('bbox') ? parseBBox(query.get('bbox')!) : undefined;
  const from = parseTime(query.get('start_time'), 'start_time') ?? -Infinity;
  const to = parseTime(query.get('end_time'), 'end_time') ?? Infinity;
  const usernames = parseList(query.get('usernames'));
  const sequenceKeys = parseList(query.get('sequence_keys'));
  const imageKeys = parseList(query.get('image_keys'));
  const pano = parseBool(query.get('pano'), 'pano');
  const matches = world.images.filter((image) =>
    (!bbox || inBBox(...image.geometry.coordinates, bbox)) && image.captured_at >= from && image.captured_at <= to &&
    (!usernames || usernames.includes(image.creator.username)) && (!sequenceKeys || sequenceKeys.includes(image.sequence)) &&
    (!imageKeys || imageKeys.includes(world.v3Key(image.id))) && (pano === undefined || image.is_pano === pano));
  return matches.sort(sortByKey ? byKey(world) : newestFirst<Image>((image) => image.captured_at));
}

function imageFeature(world: World, image: Image): unknown {
  return {
    type: 'Feature',
    properties: {
      ca: image.compass_angle, camera_make: image.make, camera_model: image.model, captured_at: iso(image.captured_at),
      key: world.v3Key(image.id), pano: image.is_pano, sequence_key: image.sequence, user_key: world.v3Key(image.creator.id),
      username: image.creator.username,
      organization_key: image.organization_id === undefined ? undefined : world.v3Key(image.organization_id),
      private: false, quality_score: image.quality_score,
    },
    geometry: image.geometry,
  };
}

function detections(world: World, query: URLSearchParams, sortByKey: boolean): Detection[] {
  const layers = layersParam(query, DETECTION_LAYERS);
  const values = parseList(query.get('values'));
  const valueMatches = values ? globMatcher(values) : () => true;
  const bbox = query.has('bbox') ? parseBBox(query.get('bbox')!) : undefined;
  const imageKeys = parseList(query.get('image_keys'));
  const matches = world.detections.filter((detection) => {
    const image = world.image(detection.image_id)!;
    return layers.includes(detection.layer) && valueMatches(detection.value) &&
      (!bbox || inBBox(...image.geometry.coordinates, bbox)) && (!imageKeys || imageKeys.includes(world.v3Key(image.id)));
  });
  return sortByKey ? matches.sort(byKey(world)) : matches;
}

function detectionFeature(world: World, detection: Detection): unknown {
  const image = world.image(detection.image_id)!;
  const ring = detection.polygon.map(([x, y]) => [x / 4096, y / 4096]);
  const area = Math.abs(ring.reduce((sum, [x, y], i) => {
    const [nx, ny] = ring[(i + 1) % ring.length];
    return sum + x * ny - nx * y;
  }, 0)) / 2;
  return {
    type: 'Feature',
    properties: {
      area, image_key: world.v3Key(image.id), key: world.v3Key(detection.id), layer: detection.layer, score: detection.score,
      shape: { type: 'Polygon', coordinates: [[...ring, ring[0]]] }, value: detection.value,
    },
    geometry: image.geometry,
  };
}

function mapFeatures(world: World, query: URLSearchParams, sortByKey: boolean): MapFeature[] {
  const layers = layersParam(query, FEATURE_LAYERS);
  const values = parseList(query.get('values'));
  const valueMatches = values ? globMatcher(values) : () => true;
  const bbox = query.has('bbox') ? parseBBox(query.get('bbox')!) : undefined;
  const matches = world.mapFeatures.filter((feature) =>
    layers.includes(featureLayer(feature)) && valueMatches(feature.object_value) &&
    (!bbox || inBBox(...feature.geometry.coordinates, bbox)));
  return sortByKey ? matches.sort(byKey(world)) : matches;
}

function mapFeatureFeature(world: World, feature: MapFeature): unknown {
  return {
    type: 'Feature',
    properties: {
      accuracy: feature.accuracy, altitude: feature.altitude,
      detections: feature.detections.map((detection) => {
        const image = world.image(detection.image_id)!;
        return { detection_key: world.v3Key(detection.id), image_key: world.v3Key(image.id), user_key: world.v3Key(image.creator.id) };
      }),
      direction: feature.aligned_direction, first_seen_at: iso(Date.parse(feature.first_seen_at)), key: world.v3Key(feature.id),
      last_seen_at: iso(Date.parse(feature.last_seen_at)), layer: featureLayer(feature), value: feature.object_value,
    },
    geometry: feature.geometry,
  };
}
