import { INPUT_LIMITS, InvalidInputError } from '../../src';
import { setting } from './harvest';
import type { Node, NodeAPI, NodeDef, NodeMessage } from './red';
import type { AreaDef } from './types';

const GEOJSON_TYPES = new Set(['Feature', 'FeatureCollection', 'Point', 'MultiPoint', 'LineString', 'MultiLineString', 'Polygon', 'MultiPolygon', 'GeometryCollection']);

const NUMBERISH = /^-?[\d.]+$/;

/**
 * Whether text looks like an area: "a,b,c,d" (in brackets or not) or a JSON object. Linear in
 * the length; text over the area limit that starts like one counts, so the parser can say so.
 */
function textLooksLikeArea(value: string): boolean {
  const text = value.trim();
  if (text.startsWith('{')) return true;
  if (value.length > INPUT_LIMITS.areaText) return /^[[\d.+-]/.test(text);
  let body = text;
  if (body.startsWith('[')) {
    if (!body.endsWith(']')) return false;
    body = body.slice(1, -1);
  }
  const parts = body.split(',', 5);
  return parts.length === 4 && parts.every((part) => NUMBERISH.test(part.trim()));
}

/** Whether a payload looks like an area (so an inject timestamp is not taken for one). */
export function looksLikeArea(value: unknown): boolean {
  if (typeof value === 'string') return textLooksLikeArea(value);
  if (Array.isArray(value)) return value.length === 4;
  if (value && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    // A world map's view (node-red-contrib-web-worldmap): {action: "bounds", south, west, north, east}.
    return Array.isArray(record.bbox) || GEOJSON_TYPES.has(String(record.type)) || record.action === 'bounds';
  }
  return false;
}

/**
 * The area of a search: the node's Area field (a TypedInput), or, when it is left empty,
 * `msg.bbox` or a bbox / GeoJSON in `msg.payload`. `undefined` when there is none.
 */
export function resolveArea(RED: NodeAPI, node: Node, def: AreaDef, msg: NodeMessage): unknown {
  const value = typeof def.bbox === 'string' ? def.bbox.trim() : def.bbox;
  const type = typeof def.bboxType === 'string' && def.bboxType ? def.bboxType : 'str';
  if (value !== '' && value !== undefined) {
    const area = evaluate(RED, node, value, type, msg, 'area');
    if (area === undefined || area === null || area === '') throw new InvalidInputError(`area: ${type}.${String(value)} is empty`);
    return area;
  }
  if (msg.bbox !== undefined && msg.bbox !== null && msg.bbox !== '') return msg.bbox;
  return looksLikeArea(msg.payload) ? msg.payload : undefined;
}

/**
 * A TypedInput setting's value for this message. What it throws (JSON that does not parse, a
 * JSONata expression that fails) is a problem of the setting: invalid input, with its reason.
 */
export function evaluate(RED: NodeAPI, node: Node, value: unknown, type: string, msg: NodeMessage, what: string): unknown {
  try {
    return RED.util.evaluateNodeProperty(value, type, node, msg);
  } catch (error) {
    throw new InvalidInputError(`${what}: ${type} setting could not be read (${error instanceof Error ? error.message.slice(0, 120) : String(error).slice(0, 120)})`);
  }
}

/** A filter setting of the node, or the same-named `msg` property when the node leaves it empty. */
export function filters<D extends NodeDef, K extends keyof D & string>(def: D, msg: NodeMessage, keys: readonly K[]): Record<K, unknown> {
  const out = {} as Record<K, unknown>;
  for (const key of keys) {
    const value: unknown = def[key];
    out[key] = setting(typeof value === 'string' ? value.trim() : value, msg[key]);
  }
  return out;
}

/** "true" / "false" / "" (any) from a select, or a boolean from msg. */
export function optionalBoolean(value: unknown, what: string): boolean | undefined {
  if (value === undefined || value === null || value === '' || value === 'any') return undefined;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new InvalidInputError(`${what}: expected true or false; got ${String(value).slice(0, 40)}`);
}

/** Field names chosen in the editor's checklist (array) or typed (comma string); empty = defaults. */
export function fieldList(value: unknown): unknown {
  if (Array.isArray(value)) return value.length ? value : undefined;
  return typeof value === 'string' && value.trim() ? value : undefined;
}

/**
 * The fields to ask for: the node's (or `defaults`), and with world-map output also those its
 * markers show (`extra`), so that a marker never lacks its position, view or class.
 */
export function fieldsFor(value: unknown, format: unknown, defaults: readonly string[], extra: readonly string[]): unknown {
  const chosen = fieldList(value);
  if (format !== 'worldmap') return chosen;
  const list = chosen === undefined ? [...defaults] : typeof chosen === 'string' ? chosen.split(',').map((f) => f.trim()).filter(Boolean) : (chosen as unknown[]).map(String);
  return [...new Set([...list, ...extra])];
}
