import type { MapillaryClient } from '../../src/client';
import { type Page, PageStream, type WalkOptions } from '../../src/paging/walk';
import { AbortError, InvalidInputError, isMapillaryError, type MapillaryError, MapillaryError as MapillaryErrorClass } from '../../src/transport/errors';
import type { MapillaryConfigNode } from '../mapillary-config';
import { type Format, type OutputMode, Shaper, summarise } from './messages';
import type { Done, Node, NodeAPI, NodeDef, NodeMessage, Send } from './red';

export interface FlowNodeDef extends NodeDef {
  mapillary?: string;
  output?: string;
  format?: string;
  maxItems?: string | number;
}

export interface OpenContext {
  client: MapillaryClient;
  apiVersion: 'v4' | 'v3';
  msg: NodeMessage;
  walk: WalkOptions;
}

/** A walk, and optionally work to do on each page before it is sent (decoding, say). */
export type Opened = PageStream<unknown> | { stream: PageStream<unknown>; prepare: (page: Page<unknown>) => Promise<void> };

/** Builds the walk for one input message; throws `InvalidInputError` for bad settings or input. */
export type Opener = (context: OpenContext) => Opened | Promise<Opened>;

/** Default item cap of a harvest (0 = no cap). */
export const DEFAULT_MAX_ITEMS = 5000;

/** A node setting, filled from the message only when left empty in the node. */
export function setting(value: unknown, fromMsg: unknown): unknown {
  return value === undefined || value === null || value === '' ? fromMsg : value;
}

function maxItemsOf(def: FlowNodeDef, msg: NodeMessage): number {
  const raw = setting(def.maxItems, msg.maxItems);
  const value = raw === undefined || raw === null || raw === '' ? DEFAULT_MAX_ITEMS : Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new InvalidInputError(`max items must be a whole number, 0 for no limit; got ${String(raw).slice(0, 40)}`);
  return value;
}

function asError(error: unknown): MapillaryError {
  if (isMapillaryError(error)) return error;
  return new MapillaryErrorClass('MAPILLARY_INVALID_INPUT', error instanceof Error ? error.message : String(error));
}

/**
 * Wires a flow node (images, detections, map features): each input runs one walk, queued
 * behind the one running; pages go to output 1, a summary to output 2 when the walk ends; the
 * status shows progress, retries, the end or the error code; `done` is called once per input,
 * with the coded error on failure (for Catch nodes). Redeploy or close aborts the walk in
 * flight and nothing is sent afterwards.
 */
export function runHarvests(RED: NodeAPI, node: Node, def: FlowNodeDef, open: Opener): void {
  const t = (key: string, subs?: Record<string, unknown>) => RED._(`${def.type}.${key}`, subs);
  const config = def.mapillary ? (RED.nodes.getNode(def.mapillary) as MapillaryConfigNode | null) : null;
  const mode: OutputMode = def.output === 'item' ? 'item' : 'page';
  const format: Format = def.format === 'geojson' ? 'geojson' : 'json';
  const closing = new AbortController();
  let queue: Promise<void> = Promise.resolve();
  let waiting = 0;

  async function run(msg: NodeMessage, send: Send, done: Done): Promise<void> {
    if (closing.signal.aborted) return done();
    const shaper = new Shaper(RED, msg, mode, format, send);
    let stream: PageStream<unknown> | undefined;
    try {
      if (!config) throw new InvalidInputError(t('errors.no-config'));
      if (!config.client) throw config.configError ?? new InvalidInputError(t('errors.no-config'));
      node.status({ fill: 'blue', shape: 'ring', text: t('status.starting') });
      const opened = await open({
        client: config.client,
        apiVersion: config.apiVersion,
        msg,
        walk: {
          maxItems: maxItemsOf(def, msg),
          signal: closing.signal,
          onRetry: (info) => node.status({ fill: 'yellow', shape: 'ring', text: t('status.retrying', { code: info.error.code, seconds: Math.ceil(info.delayMs / 1000) }) }),
          onWarning: (warning) => node.warn(warning.message),
        },
      });
      stream = opened instanceof PageStream ? opened : opened.stream;
      const prepare = opened instanceof PageStream ? undefined : opened.prepare;
      for await (const page of stream) {
        if (prepare) await prepare(page);
        if (closing.signal.aborted) throw new AbortError('closed');
        shaper.page(page, page.source ? { source: page.source } : {});
        node.status({ fill: 'blue', shape: 'dot', text: t('status.progress', { items: stream.stats.items, pages: stream.stats.pages }) });
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      if (closing.signal.aborted) return done();
      shaper.finish(true);
      const summary = summarise(stream.stats, stream.stats.ended ?? 'complete');
      send([null, { ...RED.util.cloneMessage(msg), payload: summary }]);
      node.status({ fill: 'green', shape: 'dot', text: t(summary.warnings.length ? 'status.done-warnings' : 'status.done', { items: summary.items, warnings: summary.warnings.length }) });
      done();
    } catch (caught) {
      if (closing.signal.aborted) return done();
      const error = asError(caught);
      shaper.finish(false);
      const stats = stream?.stats ?? { items: 0, pages: 0, requests: 0, retries: 0, cellsSplit: 0, warnings: [], startedAt: Date.now(), durationMs: 0 };
      send([null, { ...RED.util.cloneMessage(msg), payload: summarise(stats, 'error', error) }]);
      node.status({ fill: 'red', shape: 'ring', text: error.code });
      done(error);
    }
  }

  node.on('input', (msg, send, done) => {
    waiting += 1;
    if (waiting > 1) node.status({ fill: 'grey', shape: 'ring', text: t('status.queued', { count: waiting - 1 }) });
    queue = queue.then(() => run(msg, send, done)).finally(() => {
      waiting -= 1;
    });
  });

  node.on('close', (_removed, done) => {
    closing.abort();
    queue.then(() => {
      node.status({});
      done();
    }, done);
  });
}
