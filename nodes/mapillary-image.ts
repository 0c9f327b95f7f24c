/**
 * mapillary image: the pictures themselves. Input an image id, an item of the images node (or a
 * GeoJSON Feature of one), or an array of them; output one message per picture: its bytes (a
 * Buffer) at the chosen size, their content type, the image's fields, its place and who took it
 * (Mapillary's imagery is CC BY-SA 4.0: the attribution says so). A fresh URL is asked of the API
 * for every picture (they expire) and the bytes are fetched from the CDN with no credential.
 * Inputs are served one after the other; the pictures of one input a few at a time, sent in the
 * input's order; closing (a redeploy) stops the downloads in flight.
 */
import {
  AbortError, DEFAULT_PICTURE_MAX_BYTES, InvalidInputError, limitText, listItems, type MapillaryError, parsePictureSize, type Picture, type PictureSize,
} from '../src';
import { asError, serveInputs } from './shared/harvest';
import type { Done, Node, NodeAPI, NodeDef, NodeMessage, Send } from './shared/red';
import type { MapillaryConfigNode } from './shared/types';
import { positionOf } from './shared/worldmap';

interface ImageDef extends NodeDef {
  mapillary?: string;
  size?: string;
  maxMb?: string | number;
  concurrency?: string | number;
}

const LIMITS = { maxMb: { min: 0.01, max: 500, default: DEFAULT_PICTURE_MAX_BYTES / 1024 / 1024 }, concurrency: { min: 1, max: 16, default: 4 } };
/** Pictures asked for by one input, at most. */
const MAX_PICTURES = 10_000;

function setting(value: unknown, range: { min: number; max: number; default: number }, what: string): number {
  if (value === undefined || value === null || value === '') return range.default;
  const n = Number(value);
  if (!Number.isFinite(n) || n < range.min || n > range.max) throw new InvalidInputError(`${what}: expected a number from ${range.min} to ${range.max}`);
  return n;
}

/** The image ids of an input: an id, an item or Feature with an id, or an array of them. */
function imageIds(value: unknown): string[] {
  const list = typeof value === 'string' ? listItems(value, 'image ids')!.map((s) => String(s).trim()).filter(Boolean)
    : listItems(value, 'image ids') ?? [value];
  if (list.length > MAX_PICTURES) throw new InvalidInputError(`image ids: ${list.length} pictures asked for, at most ${MAX_PICTURES} per input`);
  return list.map((entry, i) => {
    if (typeof entry === 'string') return limitText(entry, `image ids (item ${i + 1})`).trim();
    if (typeof entry === 'number' && Number.isSafeInteger(entry)) return String(entry);
    const id = (entry as { id?: unknown } | null)?.id;
    if (typeof id === 'string' || (typeof id === 'number' && Number.isSafeInteger(id))) return String(id);
    throw new InvalidInputError(`image ids (item ${i + 1}): expected an image id, or an item with an id`);
  });
}

/** Who took it and under which licence, as Mapillary asks its imagery to be credited. */
function attribution(picture: Picture): Record<string, string> {
  const creator = (picture.image.creator as { username?: unknown } | undefined)?.username;
  const author = typeof creator === 'string' && creator ? creator : 'a Mapillary contributor';
  const url = `https://www.mapillary.com/app/?pKey=${encodeURIComponent(picture.image.id)}`;
  return {
    author, license: 'CC BY-SA 4.0', licenseUrl: 'https://creativecommons.org/licenses/by-sa/4.0/', url,
    text: `© ${author}, Mapillary, CC BY-SA 4.0 (${url})`,
  };
}

export = function register(RED: NodeAPI): void {
  function MapillaryImage(this: Node, def: ImageDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const t = (key: string, subs?: Record<string, unknown>) => RED._(`mapillary-image.${key}`, subs);
    const config = def.mapillary ? (RED.nodes.getNode(def.mapillary) as MapillaryConfigNode | null) : null;
    const closing = new AbortController();

    async function run(msg: NodeMessage, send: Send, finish: Done): Promise<void> {
      const startedAt = Date.now();
      let sent = 0;
      let bytes = 0;
      const summary = (ended: 'complete' | 'error', error?: MapillaryError) => ({
        ...RED.util.cloneMessage(msg), payload: { pictures: sent, bytes, durationMs: Date.now() - startedAt, ended, ...(error ? { error: error.toJSON() } : {}) },
      });
      // The pictures of this input stop with the first failure (the others are not waited for).
      const stop = new AbortController();
      const abort = () => stop.abort();
      closing.signal.addEventListener('abort', abort, { once: true });
      try {
        if (!config) throw new InvalidInputError(t('errors.no-config'));
        if (!config.client) throw config.configError ?? new InvalidInputError(t('errors.no-config'));
        if (config.apiVersion !== 'v4') throw new InvalidInputError(t('errors.v4'));
        const client = config.client;
        const size: PictureSize = parsePictureSize(def.size || msg.size || '1024');
        const maxBytes = Math.floor(setting(def.maxMb, LIMITS.maxMb, 'max size (MB)') * 1024 * 1024);
        const concurrency = Math.floor(setting(def.concurrency, LIMITS.concurrency, 'pictures at once'));
        const ids = imageIds(msg.payload);
        if (ids.length === 0) throw new InvalidInputError(t('errors.no-ids'));
        node.status({ fill: 'blue', shape: 'ring', text: t('status.progress', { done: 0, count: ids.length }) });
        // A few at a time, sent in the input's order.
        const pending: Promise<Picture>[] = [];
        let next = 0;
        const start = () => {
          while (next < ids.length && pending.length < concurrency) {
            const download = client.picture(ids[next++], size, { maxBytes, signal: stop.signal });
            download.catch(() => undefined); // awaited below, in order
            pending.push(download);
          }
        };
        start();
        while (pending.length > 0) {
          const picture = await pending.shift()!;
          if (closing.signal.aborted) throw new AbortError('closed');
          start();
          const out = RED.util.cloneMessage(msg);
          out.payload = picture.bytes;
          out.contentType = picture.contentType;
          out.filename = `mapillary-${picture.image.id}-${picture.size}.jpg`;
          out.mapillary = { ...picture.image, size: picture.size, index: sent, count: ids.length };
          out.attribution = attribution(picture);
          const at = positionOf(picture.image);
          if (at) out.location = { lat: at[1], lon: at[0] };
          send([out, null]);
          sent += 1;
          bytes += picture.bytes.length;
          node.status({ fill: 'blue', shape: 'dot', text: t('status.progress', { done: sent, count: ids.length }) });
        }
        send([null, summary('complete')]);
        node.status({ fill: 'green', shape: 'dot', text: t('status.done', { count: sent, mb: (bytes / 1024 / 1024).toFixed(1) }) });
        finish();
      } catch (caught) {
        stop.abort();
        if (closing.signal.aborted) return finish();
        const error = asError(caught);
        send([null, summary('error', error)]);
        node.status({ fill: 'red', shape: 'ring', text: t('status.error', { code: error.code }) });
        finish(error);
      } finally {
        closing.signal.removeEventListener('abort', abort);
      }
    }

    serveInputs(node, closing, run);
  }
  RED.nodes.registerType('mapillary-image', MapillaryImage);
};
