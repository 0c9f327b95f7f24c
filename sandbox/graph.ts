/**
 * The v4 Graph API (served under /graph): entities by id, the /images and /map_features
 * searches with their area and density rules, /image_ids, /me and `?ids=` lookups.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { type BBox, inBBox, type Image, type MapFeature } from './data';
import { detectionNode, type EntityContext, imageNode, mapFeatureNode, nodeById, parseFields, project, userNode } from './entities';
import {
  checkArea, cursor, errors, globMatcher, graphError, json, newestFirst, ParamError, parseBBox, parseBool, parseLimit,
  parseList, parseTime, type Reply,
} from './http';
import type { Caller, OAuth } from './oauth';

export interface GraphContext extends EntityContext { oauth: OAuth; heavyThreshold: number }

const MAX_LIMIT = 2000;

/** `Authorization: OAuth <token>`, else the `access_token` query parameter. */
function callerToken(headers: IncomingHttpHeaders, query: URLSearchParams): string | null {
  return /^OAuth\s+(\S+)\s*$/i.exec(headers.authorization ?? '')?.[1] ?? query.get('access_token');
}

export function graph(ctx: GraphContext, method: string, path: string, url: URL, headers: IncomingHttpHeaders, body: string): Reply {
  if (path === '/token' && method === 'POST') return ctx.oauth.token(headers.authorization, headers['content-type'], body);
  if (method !== 'GET') throw errors.badParameter(`Unsupported ${method.toLowerCase()} request.`);
  const caller = ctx.oauth.authenticate(callerToken(headers, url.searchParams));
  if (!caller) throw errors.invalidToken();
  try {
    return json(200, route(ctx, caller, path, url));
  } catch (error) {
    throw error instanceof ParamError ? errors.badParameter(error.message) : error;
  }
}

function route(ctx: GraphContext, caller: Caller, path: string, url: URL): unknown {
  const query = url.searchParams;
  const fields = parseFields(query.get('fields'));
  const [first, edge, ...rest] = path.split('/').filter(Boolean);
  switch (first) {
    case undefined: {
      const ids = parseList(query.get('ids'));
      if (!ids?.length) throw new ParamError('Missing parameter: ids');
      return Object.fromEntries(ids.map((id) => [id, project(nodeById(id, ctx) ?? missing(id), fields)]));
    }
    case 'me':
      if (caller.kind !== 'user') throw graphError(400, 2500, 'An active access token must be used to query information about the current user.');
      return project(userNode(ctx.world.user(caller.username)!), fields);
    case 'images': return searchImages(ctx, url);
    case 'map_features': return searchMapFeatures(ctx, url);
    case 'image_ids': {
      const id = query.get('sequence_id');
      if (!id) throw new ParamError('Missing parameter: sequence_id');
      return { data: (ctx.world.sequence(id) ?? missing(id)).image_ids.map((imageId) => ({ id: imageId })) };
    }
  }
  const node = nodeById(first, ctx) ?? missing(first);
  if (edge === undefined) return project(node, fields);
  const owner = ctx.world.image(first) ?? ctx.world.mapFeature(first);
  if (edge !== 'detections' || rest.length > 0 || !owner) {
    throw new ParamError(`Tried accessing nonexisting field (${[edge, ...rest].join('/')}) on node type (${node.type})`);
  }
  return { data: owner.detections.map((d) => project(detectionNode(d, ctx), fields)) };
}

function missing(id: string): never {
  throw errors.unknownId(id);
}

/** The `bbox` of a search: valid and under 0.01 square degrees. */
function searchBox(query: URLSearchParams, required: boolean): BBox | undefined {
  const text = query.get('bbox');
  if (text === null) {
    if (required) throw new ParamError('Missing parameter: bbox');
    return undefined;
  }
  const bbox = parseBBox(text);
  checkArea(bbox);
  return bbox;
}

/** Dense places are refused rather than cut: more matching items than the threshold is code 1. */
function checkDensity(ctx: GraphContext, bbox: BBox | undefined, count: number): void {
  if (bbox && count > ctx.heavyThreshold) throw errors.tooMuchData();
}

function searchImages(ctx: GraphContext, url: URL): unknown {
  const query = url.searchParams;
  const bbox = searchBox(query, false);
  const imageIds = parseList(query.get('image_ids'));
  const sequenceIds = parseList(query.get('sequence_ids'));
  const creator = query.get('creator_username');
  const organization = query.get('organization_id');
  if (!bbox && !imageIds && !sequenceIds && creator === null && organization === null) {
    throw new ParamError('Missing parameter: one of bbox, image_ids, sequence_ids, creator_username or organization_id is required');
  }
  const limit = parseLimit(query.get('limit'), 'limit', MAX_LIMIT, MAX_LIMIT);
  const from = parseTime(query.get('start_captured_at'), 'start_captured_at') ?? -Infinity;
  const to = parseTime(query.get('end_captured_at'), 'end_captured_at') ?? Infinity;
  const isPano = parseBool(query.get('is_pano'), 'is_pano');
  const make = query.get('make');
  const model = query.get('model');
  const fields = parseFields(query.get('fields'));
  const keep = (image: Image): boolean =>
    (!sequenceIds || sequenceIds.includes(image.sequence)) &&
    (creator === null || image.creator.username === creator) &&
    (organization === null || image.organization_id === organization) &&
    (isPano === undefined || image.is_pano === isPano) &&
    (make === null || image.make === make) &&
    (model === null || image.model === model) &&
    image.captured_at >= from && image.captured_at <= to;
  // In an area, matches are counted only up to the threshold (then refused, quickly).
  const matches = imageIds ? imageIds.flatMap((id) => ctx.world.image(id) ?? []).filter((image) => (!bbox || inBBox(...image.geometry.coordinates, bbox)) && keep(image))
    : bbox ? ctx.world.matching(bbox, keep, ctx.heavyThreshold) : ctx.world.images.filter(keep);
  checkDensity(ctx, bbox, matches.length);
  matches.sort(newestFirst<Image>((image) => image.captured_at));
  const render = (list: Image[]) => list.map((image) => project(imageNode(image, ctx), fields));
  if (creator === null) return { data: render(matches.slice(0, limit)) };

  // creator_username searches page with a cursor; `next` repeats the query without the token.
  const after = query.get('after');
  const offset = after === null ? 0 : cursor.decode(after);
  const result: Record<string, unknown> = { data: render(matches.slice(offset, offset + limit)) };
  if (offset + limit < matches.length) {
    const next = new URL(url.href);
    next.searchParams.delete('access_token');
    next.searchParams.set('after', cursor.encode(offset + limit));
    result.paging = { next: next.href };
  }
  return result;
}

function searchMapFeatures(ctx: GraphContext, url: URL): unknown {
  const query = url.searchParams;
  const bbox = searchBox(query, true)!;
  const values = parseList(query.get('object_values'));
  const valueMatches = values ? globMatcher(values) : () => true;
  const limit = parseLimit(query.get('limit'), 'limit', MAX_LIMIT, MAX_LIMIT);
  const window = (name: string): [number, number] =>
    [parseTime(query.get(`start_${name}`), `start_${name}`) ?? -Infinity, parseTime(query.get(`end_${name}`), `end_${name}`) ?? Infinity];
  const [[firstFrom, firstTo], [lastFrom, lastTo]] = [window('first_seen_at'), window('last_seen_at')];
  const fields = parseFields(query.get('fields'));
  const matches = ctx.world.mapFeaturesIn(bbox).filter((feature) => {
    const [first, last] = [Date.parse(feature.first_seen_at), Date.parse(feature.last_seen_at)];
    return valueMatches(feature.object_value) && first >= firstFrom && first <= firstTo && last >= lastFrom && last <= lastTo;
  });
  checkDensity(ctx, bbox, matches.length);
  matches.sort(newestFirst<MapFeature>((feature) => Date.parse(feature.last_seen_at)));
  return { data: matches.slice(0, limit).map((feature) => project(mapFeatureNode(feature, ctx), fields)) };
}
