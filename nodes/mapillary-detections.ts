import { DECODE_FIELDS, decodeDetectionGeometry, DEFAULT_DETECTION_FIELDS, InvalidInputError, limitText, listItems, type MapillaryClient } from '../src';
import { asError, runHarvests } from './shared/harvest';
import { evaluate, fieldList, filters, looksLikeArea, resolveArea } from './shared/inputs';
import type { Node, NodeAPI, NodeMessage } from './shared/red';
import type { DetectionsDef } from './shared/types';
import { type Position, positionOf } from './shared/worldmap';

type Size = { width: number; height: number };
interface Item { id?: unknown; width?: unknown; height?: unknown; properties?: { key?: unknown }; geometry?: unknown; image?: { id?: string } }

/** Ids (or v3 keys) from an id, an item of the images / map features nodes, or an array of them; sizes when items carry them. */
function targets(value: unknown, v3: boolean): { ids: string[]; sizes: Map<string, Size>; positions: Map<string, Position> } {
  const list = value === undefined || value === null ? []
    : typeof value === 'string' ? listItems(value, 'detections input')!.map((s) => (s as string).trim()).filter(Boolean)
    : listItems(value, 'detections input') ?? [value];
  const sizes = new Map<string, Size>();
  const positions = new Map<string, Position>();
  const ids = list.map((entry, i) => {
    if (typeof entry === 'string') return limitText(entry, `detections input (item ${i + 1})`).trim();
    if (typeof entry === 'number') return String(entry);
    const item = entry as Item;
    const id = v3 ? item?.properties?.key : item?.id;
    if (typeof id !== 'string' && typeof id !== 'number') throw new InvalidInputError(`detections input (item ${i + 1}): expected an id or an item with ${v3 ? 'properties.key' : 'an id'}`);
    if (typeof item.width === 'number' && typeof item.height === 'number') sizes.set(String(id), { width: item.width, height: item.height });
    const at = positionOf(item);
    if (at) positions.set(String(id), at);
    return String(id);
  });
  return { ids, sizes, positions };
}

/** Adds `polygon` (normalised, and in pixels when the image size is known or fetched) to each detection. */
async function decode(client: MapillaryClient, items: Item[], sizes: Map<string, Size> | undefined, signal?: AbortSignal): Promise<void> {
  if (sizes) {
    const missing = [...new Set(items.map((d) => d.image?.id).filter((id): id is string => !!id && !sizes.has(id)))];
    if (missing.length) {
      for (const image of await client.getImages(missing, 'width,height', { signal })) {
        if (typeof image.width === 'number' && typeof image.height === 'number') sizes.set(image.id, { width: image.width, height: image.height });
      }
    }
  }
  for (const item of items) {
    if (typeof item.geometry !== 'string') continue;
    const size = sizes && item.image?.id ? sizes.get(item.image.id) : undefined;
    (item as Record<string, unknown>).polygon = await decodeDetectionGeometry(item.geometry, size);
  }
}

export = function register(RED: NodeAPI): void {
  function MapillaryDetections(this: Node, def: DetectionsDef): void {
    RED.nodes.createNode(this, def);
    runHarvests(RED, this, def, async ({ client, apiVersion, msg, walk }) => {
      const source = evaluate(RED, this, def.source || 'payload', def.sourceType || 'msg', msg, 'detections input');
      // In v3 mode the area may come in msg.payload too: an area is not a list of image keys.
      const { ids, sizes, positions } = targets(apiVersion === 'v3' && looksLikeArea(source) ? undefined : source, apiVersion === 'v3');
      if (apiVersion === 'v3') {
        const f = filters(def, msg, ['layers', 'values'] as const);
        const bbox = resolveArea(RED, this, def, msg as NodeMessage);
        return client.v3.imageDetections({ bbox, imageKeys: ids.length ? ids : undefined, layers: f.layers, values: f.values }, walk);
      }
      if (ids.length === 0) throw new InvalidInputError('detections: no image or map feature id in the input');
      const geometry = def.geometry === 'pixels' || def.geometry === 'normalized' ? def.geometry : 'raw';
      let fields = fieldList(def.fields);
      if (geometry !== 'raw') {
        const list = typeof fields === 'string' ? fields.split(',') : (fields as string[] | undefined) ?? DEFAULT_DETECTION_FIELDS;
        fields = [...new Set([...list.map((x) => x.trim()), ...DECODE_FIELDS])];
      }
      // World map: detections sit at their image; where the input did not say, it is asked (the ids in few requests).
      if (def.format === 'worldmap') {
        const missing = ids.filter((id) => !positions.has(id));
        if (missing.length > 0) {
          try {
            for (const image of await client.getImages(missing, 'geometry', { signal: walk.signal })) {
              const at = positionOf(image);
              if (at) positions.set(image.id, at);
            }
          } catch (error) {
            this.warn(RED._('mapillary-detections.errors.no-positions', { reason: asError(error).message }));
          }
        }
      }
      const stream = client.imageDetections(ids, fields, walk);
      const sourceAt = (source: string) => positions.get(source);
      if (geometry === 'raw') return { stream, sourceAt };
      return { stream, sourceAt, prepare: (page) => decode(client, page.items as Item[], geometry === 'pixels' ? sizes : undefined, walk.signal) };
    }, 'detection');
  }
  RED.nodes.registerType('mapillary-detections', MapillaryDetections);
};
