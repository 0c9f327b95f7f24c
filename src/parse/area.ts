/**
 * Parsing the many ways a flow may give an area: "minLon,minLat,maxLon,maxLat", an array, JSON
 * text, GeoJSON (a bbox member, a geometry, a Feature or a FeatureCollection), within the limits.
 */
import type { BBox } from '../geo/bbox';
import { type PolygonCoordinates, Shape } from '../geo/shape';
import { INPUT_LIMITS } from '../limits';
import { InvalidInputError } from '../errors';
import { invalid, limitText } from './values';

const EXPECTED = '"minLon,minLat,maxLon,maxLat", an array of 4 numbers, or a GeoJSON object (with a bbox, a geometry, a Feature or a FeatureCollection)';
/** One number as text; unambiguous (every character has one way to match), so linear in time. */
const NUMBER_TEXT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$/i;
/** Longest number text read: more digits than a double holds, with room for a sign and exponent. */
const MAX_NUMBER_TEXT = 64;

type Extent = [number, number, number, number];

/** How much of a GeoJSON area has been read: positions and container depth are capped. */
interface Budget { positions: number }

function toNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.length <= MAX_NUMBER_TEXT && NUMBER_TEXT.test(value.trim())) return Number(value);
  return Number.NaN;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Grow `extent` by every position found `depth` array levels below `coords`. */
function addPositions(extent: Extent, coords: unknown, depth: number, what: string, budget: Budget): void {
  if (!Array.isArray(coords)) throw invalid(what, 'GeoJSON with coordinate arrays', coords);
  if (depth > 0) {
    for (const child of coords) addPositions(extent, child, depth - 1, what, budget);
    return;
  }
  if (++budget.positions > INPUT_LIMITS.areaPositions) {
    throw new InvalidInputError(`${what} has too many positions: more than ${INPUT_LIMITS.areaPositions.toLocaleString('en-US')}, the limit`);
  }
  const [lon, lat] = coords;
  if (typeof lon !== 'number' || typeof lat !== 'number' || !Number.isFinite(lon) || !Number.isFinite(lat)) {
    throw invalid(what, 'GeoJSON whose positions are [longitude, latitude] numbers', coords);
  }
  extent[0] = Math.min(extent[0], lon);
  extent[1] = Math.min(extent[1], lat);
  extent[2] = Math.max(extent[2], lon);
  extent[3] = Math.max(extent[3], lat);
}

const DEPTH: Record<string, number> = {
  Point: 0, MultiPoint: 1, LineString: 1, MultiLineString: 2, Polygon: 2, MultiPolygon: 3,
};

/** Grow `extent` by a GeoJSON object; its own `bbox` member wins over its contents. */
function addGeoJson(extent: Extent, obj: unknown, what: string, budget: Budget, level = 1): void {
  if (!isRecord(obj)) throw invalid(what, EXPECTED, obj);
  if (level > INPUT_LIMITS.areaDepth) {
    throw new InvalidInputError(`${what} is nested too deeply: more than ${INPUT_LIMITS.areaDepth} levels of GeoJSON objects, the limit`);
  }
  if (obj.bbox !== undefined) {
    const [w, s, e, n] = bboxMember(obj.bbox, what);
    // A nested bbox crossing the antimeridian cannot be merged into one extent: use the contents.
    if (w <= e) {
      addPositions(extent, [[w, s], [e, n]], 1, what, budget);
      return;
    }
  }
  const type = obj.type;
  if (type === 'Feature') addGeoJson(extent, obj.geometry, what, budget, level + 1);
  else if (type === 'FeatureCollection') {
    if (!Array.isArray(obj.features)) throw invalid(what, 'a FeatureCollection with a features array', obj);
    for (const feature of obj.features) addGeoJson(extent, feature, what, budget, level + 1);
  } else if (type === 'GeometryCollection') {
    if (!Array.isArray(obj.geometries)) throw invalid(what, 'a GeometryCollection with a geometries array', obj);
    for (const geometry of obj.geometries) addGeoJson(extent, geometry, what, budget, level + 1);
  } else if (typeof type === 'string' && Object.hasOwn(DEPTH, type)) addPositions(extent, obj.coordinates, DEPTH[type]!, what, budget);
  else throw invalid(what, EXPECTED, obj);
}

/** A GeoJSON `bbox` member: 4 numbers, or 6 for 3D ([minLon, minLat, minZ, maxLon, maxLat, maxZ]). */
function bboxMember(value: unknown, what: string): Extent {
  if (!Array.isArray(value) || (value.length !== 4 && value.length !== 6) || !value.every((v) => typeof v === 'number')) {
    throw invalid(what, 'a GeoJSON bbox of 4 (or 6 for 3D) numbers', value);
  }
  return value.length === 4 ? [value[0], value[1], value[2], value[3]] : [value[0], value[1], value[3], value[4]];
}

function toExtent(input: unknown, what: string, parsedText = false): Extent {
  if (typeof input === 'string') {
    limitText(input, what, INPUT_LIMITS.areaText);
    const text = input.trim();
    if (!parsedText && (text.startsWith('[') || text.startsWith('{'))) {
      let parsed: unknown;
      try { parsed = JSON.parse(text); } catch { throw invalid(what, EXPECTED, input); }
      return toExtent(parsed, what, true);
    }
  }
  const items = typeof input === 'string' ? input.split(',', 5) : Array.isArray(input) ? input : undefined;
  if (items !== undefined) {
    // The count first: no item is read unless there are exactly four.
    if (items.length !== 4) throw invalid(what, EXPECTED, input);
    const numbers = items.map(toNumber);
    if (numbers.some((n) => !Number.isFinite(n))) throw invalid(what, EXPECTED, input);
    return [numbers[0]!, numbers[1]!, numbers[2]!, numbers[3]!];
  }
  if (isRecord(input) && input.action === 'bounds') return boundsExtent(input, what);
  if (isRecord(input) && input.bbox !== undefined) return bboxMember(input.bbox, what);
  const extent: Extent = [Infinity, Infinity, -Infinity, -Infinity];
  addGeoJson(extent, input, what, { positions: 0 });
  if (!Number.isFinite(extent[0])) throw invalid(what, 'GeoJSON with at least one position', input);
  return extent;
}

/** A longitude brought into [-180, 180). */
const wrapLon = (lon: number): number => ((((lon + 180) % 360) + 360) % 360) - 180;

/**
 * Node-RED's world map (node-red-contrib-web-worldmap) tells the view as
 * `{action: "bounds", south, west, north, east}`; a map panned round the world gives
 * longitudes past ±180, brought back here (west > east then crosses the antimeridian).
 */
function boundsExtent(bounds: Record<string, unknown>, what: string): Extent {
  const [south, west, north, east] = [bounds.south, bounds.west, bounds.north, bounds.east].map(toNumber) as [number, number, number, number];
  if (![south, west, north, east].every(Number.isFinite)) {
    throw invalid(what, 'world map bounds with numbers south, west, north and east', bounds);
  }
  const clampLat = (lat: number): number => Math.max(-90, Math.min(90, lat));
  if (east - west >= 360) return [-180, clampLat(south), 180, clampLat(north)];
  let w = wrapLon(west);
  let e = wrapLon(east);
  if (e === -180 && east > west) e = 180;
  if (w === 180) w = -180;
  return [w, clampLat(south), e, clampLat(north)];
}

/**
 * Parse an area into one box, or two when it crosses the antimeridian (minLon > maxLon).
 * Throws InvalidInputError naming `what` when the input is not a valid area with some extent.
 */
export function parseArea(input: unknown, what = 'bbox'): BBox[] {
  const [minLon, minLat, maxLon, maxLat] = toExtent(input, what);
  const shown = `${minLon},${minLat},${maxLon},${maxLat}`;
  if (!Number.isFinite(minLon + minLat + maxLon + maxLat)) throw invalid(what, 'finite numbers', shown);
  if (Math.abs(minLon) > 180 || Math.abs(maxLon) > 180) throw invalid(what, 'longitudes from -180 to 180', shown);
  if (Math.abs(minLat) > 90 || Math.abs(maxLat) > 90) throw invalid(what, 'latitudes from -90 to 90', shown);
  if (minLat > maxLat) throw invalid(what, 'minLat below maxLat (order: minLon,minLat,maxLon,maxLat)', shown);
  if (minLat === maxLat || minLon === maxLon) {
    throw new InvalidInputError(`${what} has no area (zero width or height); got ${shown}`);
  }
  if (minLon < maxLon) return [[minLon, minLat, maxLon, maxLat]];
  const parts: BBox[] = [[minLon, minLat, 180, maxLat], [-180, minLat, maxLon, maxLat]];
  const withArea = parts.filter((b) => b[0] < b[2]);
  if (withArea.length === 0) throw new InvalidInputError(`${what} has no area (zero width or height); got ${shown}`);
  return withArea;
}

/** What an area search covers: boxes to cut into cells, and the shape when the area is one. */
export interface SearchArea {
  boxes: BBox[];
  /** Polygons (with holes): only cells meeting it are asked for, only items in it are kept. */
  shape?: Shape;
}

const POLYGON_TYPES = new Set(['Polygon', 'MultiPolygon']);

/** A ring of [lon, lat] positions within range, closed (closed here when it was not), of 3 corners at least. */
function ringOf(value: unknown, what: string, budget: Budget): number[][] {
  if (!Array.isArray(value)) throw invalid(what, 'GeoJSON polygon rings (arrays of positions)', value);
  const ring: number[][] = [];
  for (const position of value) {
    if (++budget.positions > INPUT_LIMITS.shapePositions) {
      throw new InvalidInputError(`${what} has too many positions for a shape: more than ${INPUT_LIMITS.shapePositions.toLocaleString('en-US')}, the limit (simplify the outline)`);
    }
    const [lon, lat] = Array.isArray(position) ? position : [];
    if (typeof lon !== 'number' || typeof lat !== 'number' || !Number.isFinite(lon) || !Number.isFinite(lat) || Math.abs(lon) > 180 || Math.abs(lat) > 90) {
      throw invalid(what, 'GeoJSON whose positions are [longitude, latitude] within -180..180 and -90..90 (split a shape at the antimeridian)', position);
    }
    ring.push([lon, lat]);
  }
  const [first, last] = [ring[0], ring.at(-1)];
  if (first && last && (first[0] !== last[0] || first[1] !== last[1])) ring.push([first[0]!, first[1]!]);
  if (ring.length < 4) throw invalid(what, 'polygon rings of 3 corners at least', value);
  return ring;
}

function polygonOf(value: unknown, what: string, budget: Budget): PolygonCoordinates {
  if (!Array.isArray(value) || value.length === 0) throw invalid(what, 'a GeoJSON polygon (an outer ring, then its holes)', value);
  return value.map((ring) => ringOf(ring, what, budget));
}

/**
 * The polygons of a GeoJSON area: a Polygon or MultiPolygon, bare, in a Feature, or every
 * geometry of a FeatureCollection or GeometryCollection; `undefined` when it holds anything else
 * (a point, a line, a bbox member alone), which is then searched by its extent.
 */
function polygonsOf(value: unknown, what: string, budget: Budget, level = 1): PolygonCoordinates[] | undefined {
  if (!isRecord(value) || level > INPUT_LIMITS.areaDepth) return undefined;
  const type = value.type;
  // No positions (a bbox member alone, say): searched by its extent.
  if (POLYGON_TYPES.has(String(type)) && Array.isArray(value.coordinates) && value.coordinates.length === 0) return undefined;
  if (type === 'Polygon') return [polygonOf(value.coordinates, what, budget)];
  if (type === 'MultiPolygon') {
    if (!Array.isArray(value.coordinates)) throw invalid(what, 'a MultiPolygon with a coordinates array', value);
    return value.coordinates.map((polygon) => polygonOf(polygon, what, budget));
  }
  if (type === 'Feature') return polygonsOf(value.geometry, what, budget, level + 1);
  const members = type === 'FeatureCollection' ? value.features : type === 'GeometryCollection' ? value.geometries : undefined;
  if (!Array.isArray(members) || members.length === 0) return undefined;
  const all: PolygonCoordinates[] = [];
  for (const member of members) {
    const geometry = isRecord(member) && member.type === 'Feature' ? member.geometry : member;
    if (!isRecord(geometry) || !POLYGON_TYPES.has(String(geometry.type))) return undefined;
    const polygons = polygonsOf(member, what, budget, level + 1);
    if (!polygons) return undefined;
    all.push(...polygons);
  }
  return all;
}

/**
 * An area as a search covers it: a shape when it is made of polygons (cells and items are then
 * held to the shape), otherwise boxes (its extent, two across the antimeridian). World map
 * bounds messages are boxes too. Limits as for `parseArea`.
 */
export function parseSearchArea(input: unknown, what = 'bbox'): SearchArea {
  let value = input;
  if (typeof value === 'string') {
    limitText(value, what, INPUT_LIMITS.areaText);
    const text = value.trim();
    if (text.startsWith('{')) {
      try { value = JSON.parse(text); } catch { throw invalid(what, EXPECTED, input); }
    }
  }
  const polygons = isRecord(value) && value.type !== undefined && value.action !== 'bounds' ? polygonsOf(value, what, { positions: 0 }) : undefined;
  if (!polygons || polygons.length === 0) return { boxes: parseArea(value, what) };
  const shape = new Shape(polygons);
  const boxes = shape.boxes();
  if (boxes.some((b) => !(b[0] < b[2] && b[1] < b[3]))) throw new InvalidInputError(`${what} has no area (a polygon of zero width or height)`);
  return { boxes, shape };
}
