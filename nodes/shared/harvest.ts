import {
  AbortError, type Checkpoint, InternalError, InvalidInputError, isMapillaryError, type MapillaryClient, type MapillaryError, type Page, PageStream,
  parseCount, SETTING_RANGES, type WalkOptions, type WalkStats,
} from '../../src';
import { type Format, type OutputMode, Shaper, type Summary, summarise, toFeature } from './messages';
import type { Done, Node, NodeAPI, NodeMessage, Send } from './red';
import { type ChangeCounts, ChangeTracker, changesDir } from './changes';
import { isJob, type Job, type JobKind, type JobResult, readJob } from './jobs';
import { ResumeRecords, resumeDir } from './resume';
import type { ItemKind, Position } from './worldmap';
import type { FlowNodeDef, MapillaryConfigNode } from './types';

export interface OpenContext {
  client: MapillaryClient;
  apiVersion: 'v4' | 'v3';
  msg: NodeMessage;
  walk: WalkOptions;
}

/**
 * A walk, and optionally work to do on each page before it is sent (decoding, say) and where the
 * source of a page is (the image of a page of detections, for world-map markers).
 */
export type Opened = PageStream<unknown> | {
  stream: PageStream<unknown>;
  prepare?: (page: Page<unknown>) => Promise<void>;
  sourceAt?: (source: string) => Position | undefined;
};

/** Builds the walk for one input message; throws `InvalidInputError` for bad settings or input. */
export type Opener = (context: OpenContext) => Opened | Promise<Opened>;

/** Nodes that search areas take jobs of a plan: their kind, and the search a job names. */
export interface JobSearch {
  kind: JobKind;
  open: (client: MapillaryClient, params: Record<string, unknown>, walk: WalkOptions) => PageStream<unknown>;
}

/** A node setting, filled from the message only when left empty in the node. */
export function setting(value: unknown, fromMsg: unknown): unknown {
  return value === undefined || value === null || value === '' ? fromMsg : value;
}

/** Inputs ending within this time of each other are one run for the status ("done: 57 items from 20 inputs"). */
const BURST_GAP_MS = 2000;

/** Status updates while a harvest runs, at most this often (the editor is told of each one). */
const STATUS_EVERY_MS = 250;

/**
 * Any failure as a coded error: the package's own errors as they are; anything else was not
 * expected, and says so with `MAPILLARY_INTERNAL` (never passed off as invalid input).
 */
export function asError(error: unknown): MapillaryError {
  if (isMapillaryError(error)) return error;
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new InternalError(`Unexpected error in the Mapillary node: ${message.slice(0, 300)}`);
}

/** The reason of an error for a status line: its message without the endpoint prefix, cut short. */
function shortReason(error: MapillaryError): string {
  const text = error.message.replace(/^Mapillary [A-Z]+ \S+( failed)?: /, '');
  return text.length > 60 ? `${text.slice(0, 59)}…` : text;
}

/**
 * `RED.util.cloneMessage`, which throws on messages it cannot copy (nested thousands of levels
 * deep, say): the input is then refused before any request.
 */
function copyable(RED: NodeAPI, msg: NodeMessage): void {
  try {
    RED.util.cloneMessage(msg);
  } catch (error) {
    throw new InvalidInputError(`the input message cannot be copied (${error instanceof Error ? error.message : String(error)}); is it nested too deeply?`);
  }
}

/** A copy of `msg` for the summary; a shallow one if it cannot be copied, so the summary still goes out. */
function summaryMessage(RED: NodeAPI, msg: NodeMessage, payload: unknown): NodeMessage {
  let copy: NodeMessage;
  try {
    copy = RED.util.cloneMessage(msg);
  } catch {
    copy = { ...msg };
  }
  return { ...copy, payload };
}

/**
 * Keeps the record of a harvest that resumes after a stop: resumes the stream from the record of
 * its search (unless `restart`), then writes the stream's checkpoint each time a page has been
 * delivered, so that a crash at any moment repeats at most the page being delivered. In item mode
 * the last item of each page is held back until the next page, so the record lags one page.
 * A complete harvest (or one ended at max items) removes its record; a failed or stopped one
 * keeps it for the next input.
 */
/** Page size of the removed ids (page mode), as the API's pages. */
const REMOVED_PER_PAGE = 2000;

/** The ids that the last complete run found and this one did not: `msg.mapillary.change` "removed", a set of their own. */
function sendRemoved(RED: NodeAPI, msg: NodeMessage, mode: OutputMode, send: Send, removed: string[]): void {
  const shaper = new Shaper(RED, msg, mode, 'json', send);
  for (let i = 0; i * REMOVED_PER_PAGE < removed.length; i++) {
    shaper.page({ items: removed.slice(i * REMOVED_PER_PAGE, (i + 1) * REMOVED_PER_PAGE), index: i, warnings: [] }, { change: 'removed' });
  }
  shaper.finish(true);
}

class Keeper {
  /** Item mode: the checkpoint of the page whose last item is held back. */
  private pending?: Checkpoint;
  private broken = false;

  constructor(
    private readonly records: ResumeRecords, private readonly stream: PageStream<unknown>, private readonly search: string, restart: boolean,
    private readonly mode: OutputMode, private readonly warn: (text: string) => void, private readonly t: (key: string, subs?: Record<string, unknown>) => string,
  ) {
    if (restart) {
      this.records.clear(this.search);
      return;
    }
    const record = this.records.load(this.search);
    if (record === undefined) return;
    try {
      stream.resume(record);
    } catch (error) {
      this.warn(this.t('errors.resume-unusable', { reason: asError(error).message }));
      this.records.clear(this.search);
    }
  }

  /** A page was delivered. */
  delivered(): void {
    const checkpoint = this.stream.checkpoint();
    if (!checkpoint) return;
    if (this.mode === 'page') return this.save(checkpoint);
    if (this.pending) this.save(this.pending);
    this.pending = checkpoint;
  }

  /** Item mode: the item held back was sent (the walk failed): the last checkpoint holds. */
  flushed(): void {
    if (this.pending) this.save(this.pending);
    this.pending = undefined;
  }

  /** The harvest ended complete or at max items: nothing to resume. */
  ended(): void {
    this.pending = undefined;
    this.records.clear(this.search);
  }

  private save(checkpoint: Checkpoint): void {
    if (this.broken) return;
    try {
      this.records.save(this.search, checkpoint);
    } catch (error) {
      // The harvest goes on; it will not resume from here.
      this.broken = true;
      this.warn(this.t('errors.resume-unwritable', { reason: error instanceof Error ? error.message : String(error) }));
    }
  }
}

/**
 * Wires a flow node (images, detections, map features): each input runs one walk, queued
 * behind the one running; pages go to output 1, a summary to output 2 when the walk ends; the
 * status shows progress (cells of an area, items, pages), retries, the end (yellow when stopped
 * at max items) or the error code and reason; `done` is called exactly once per input, with the
 * coded error on failure (for Catch nodes). Nothing an input does can reject the queue: the
 * next input is always served. Redeploy or close aborts the walk in flight and nothing is sent
 * afterwards.
 */
export function runHarvests(RED: NodeAPI, node: Node, def: FlowNodeDef, open: Opener, kind: ItemKind, jobs?: JobSearch): void {
  const t = (key: string, subs?: Record<string, unknown>) => RED._(`${def.type}.${key}`, subs);
  const count = (what: 'items' | 'pages' | 'warnings' | 'inputs', n: number) => t(`count.${what}`, { count: n });
  const config = def.mapillary ? (RED.nodes.getNode(def.mapillary) as MapillaryConfigNode | null) : null;
  const mode: OutputMode = def.output === 'item' ? 'item' : 'page';
  /** Plan only (one job per cell, no request), or one result per job (a worker answering a coordinator). */
  const planning = jobs !== undefined && def.output === 'plan';
  const answering = jobs !== undefined && def.output === 'result';
  const format: Format = def.format === 'geojson' || def.format === 'worldmap' ? def.format : 'json';
  const closing = new AbortController();
  const resumeOn = def.resume === true || def.resume === 'true';
  const root = resumeDir(RED);
  const records = resumeOn && root ? new ResumeRecords(root, node.id) : undefined;
  const changesOn = def.changes === true || def.changes === 'true';
  const changesRoot = changesDir(RED);
  records?.expire();
  if (resumeOn && !root) node.warn(t('errors.resume-no-userdir'));

  /** Inputs that ended complete one after another (with less than BURST_GAP_MS between them). */
  const burst = { inputs: 0, items: 0, endedAt: 0 };
  function tally(items: number): { inputs: number; items: number } {
    const now = Date.now();
    if (now - burst.endedAt > BURST_GAP_MS) {
      burst.inputs = 0;
      burst.items = 0;
    }
    burst.inputs += 1;
    burst.items += items;
    burst.endedAt = now;
    return burst;
  }

  function progress(stats: Readonly<WalkStats>): string {
    if (stats.cells) return t('status.cells', { done: stats.cells.done, total: stats.cells.total, items: count('items', stats.items) });
    return t('status.progress', { items: count('items', stats.items), pages: count('pages', stats.pages) });
  }

  /**
   * Plan only: one message per cell of the area (`msg.payload` and `msg.cell`: the job, with
   * `msg.parts` over the plan), then the summary; no request.
   */
  async function plan(stream: PageStream<unknown>, msg: NodeMessage, send: Send, finish: Done): Promise<void> {
    const planned = stream.plan();
    if (!planned) throw new InvalidInputError(t('errors.plan-area-only'));
    const id = `${msg._msgid ?? 'plan'}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
    const count = planned.cells.length;
    for (let index = 0; index < count; index++) {
      if (closing.signal.aborted) return finish();
      const job: Job = { type: 'mapillary-job', version: 1, kind: jobs!.kind, plan: id, index, count, search: planned.params, digest: planned.search, cells: [planned.cells[index]!] };
      const out = RED.util.cloneMessage(msg);
      out.payload = job;
      out.cell = job;
      out.parts = { id, index, count, type: 'array', len: 1 };
      send([out, null]);
      // A plan of thousands of cells: other work gets a turn now and then.
      if (index % 200 === 199) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    const stats = stream.stats;
    send([null, summaryMessage(RED, msg, { ...summarise(stats, 'complete'), jobs: count, cellsPlanned: count })]);
    node.status({ fill: 'green', shape: 'dot', text: t('status.planned', { jobs: count }) });
    finish();
  }

  /** A worker's answer to a job: every item of its cells, and the summary. */
  function result(job: Job, items: unknown[], summary: Summary): JobResult {
    return { type: 'mapillary-result', version: 1, kind: job.kind, plan: job.plan, index: job.index, count: job.count, attempt: job.attempt ?? 1, items, summary };
  }

  async function run(msg: NodeMessage, send: Send, finish: Done): Promise<void> {
    if (closing.signal.aborted) return finish();
    let shaper: Shaper | undefined;
    let stream: PageStream<unknown> | undefined;
    let keeper: Keeper | undefined;
    let tracker: ChangeTracker | undefined;
    let job: Job | undefined;
    const gathered: unknown[] = [];
    let shownAt = 0;
    const show = (stats: Readonly<WalkStats>, force = false): void => {
      const now = Date.now();
      if (!force && now - shownAt < STATUS_EVERY_MS) return;
      shownAt = now;
      node.status({ fill: 'blue', shape: 'dot', text: progress(stats) });
    };
    try {
      if (!config) throw new InvalidInputError(t('errors.no-config'));
      if (!config.client) throw config.configError ?? new InvalidInputError(t('errors.no-config'));
      copyable(RED, msg);
      node.status({ fill: 'blue', shape: 'ring', text: t('status.starting') });
      const walk: WalkOptions = {
        maxItems: parseCount(setting(def.maxItems, msg.maxItems), 'max items', SETTING_RANGES.maxItems),
        maxRequests: parseCount(setting(def.maxRequests, msg.maxRequests), 'max requests', SETTING_RANGES.maxRequests),
        signal: closing.signal,
        onRetry: (info) => node.status({ fill: 'yellow', shape: 'ring', text: t('status.retrying', { code: info.error.code, seconds: Math.ceil(info.delayMs / 1000) }) }),
        onWarning: (warning) => node.warn(warning.message),
        onProgress: (stats) => show(stats),
      };
      // A job of a plan (msg.cell, or msg.payload when it is one): exactly its cells, of the search it names.
      const given = jobs && (isJob(msg.cell) ? msg.cell : isJob(msg.payload) ? msg.payload : undefined);
      let prepare: ((page: Page<unknown>) => Promise<void>) | undefined;
      let sourceAt: ((source: string) => Position | undefined) | undefined;
      if (given) {
        if (planning) throw new InvalidInputError(t('errors.job-to-planner'));
        job = readJob(given);
        if (job.kind !== jobs!.kind) throw new InvalidInputError(t('errors.job-kind', { kind: job.kind }));
        if (config.apiVersion !== 'v4') throw new InvalidInputError(t('errors.job-v4'));
        // A job's answer must be whole: max items does not apply to it (max requests does).
        stream = jobs!.open(config.client, job.search, { ...walk, maxItems: 0 });
        if (stream.search !== job.digest) throw new InvalidInputError(t('errors.job-digest'));
        stream.only(job.cells);
      } else {
        if (answering) throw new InvalidInputError(t('errors.result-needs-job'));
        const opened = await open({ client: config.client, apiVersion: config.apiVersion, msg, walk });
        stream = opened instanceof PageStream ? opened : opened.stream;
        prepare = opened instanceof PageStream ? undefined : opened.prepare;
        sourceAt = opened instanceof PageStream ? undefined : opened.sourceAt;
      }
      shaper = new Shaper(RED, msg, mode, format, send, kind, sourceAt);
      if (planning) return await plan(stream, msg, send, finish);
      if (changesOn && job) throw new InvalidInputError(t('errors.changes-whole-area'));
      if (changesOn && (!stream.search || !changesRoot)) throw new InvalidInputError(t(stream.search ? 'errors.changes-no-userdir' : 'errors.changes-area-only'));
      // A record kept with Only changes on goes with the log of ids found: it is kept apart.
      // A job is not resumed: its coordinator sends it again.
      keeper = records && stream.search && !job ? new Keeper(records, stream, changesOn ? `${stream.search}.changes` : stream.search, msg.restart === true, mode, (text) => node.warn(text), t) : undefined;
      if (changesOn) {
        tracker = new ChangeTracker(changesRoot!, node.id, stream.search!, keeper !== undefined, stream.stats.resumed !== undefined,
          (file) => node.warn(t('errors.changes-unreadable', { file })));
      }
      for await (const page of stream) {
        if (prepare) await prepare(page);
        if (closing.signal.aborted) throw new AbortError('closed');
        const meta = page.source ? { source: page.source } : {};
        if (answering) {
          for (const item of page.items) gathered.push(format === 'geojson' ? toFeature(item) : item);
        } else if (tracker) {
          const added = tracker.added(page.items);
          if (added.length > 0) shaper.page({ ...page, items: added }, { ...meta, change: 'added' });
        } else {
          shaper.page(page, meta);
        }
        show(stream.stats, page.index === 0);
        // Node-RED delivers messages on the next turn: after this one, the page reached the next nodes.
        await new Promise<void>((resolve) => setImmediate(resolve));
        tracker?.delivered();
        keeper?.delivered();
      }
      if (closing.signal.aborted) return finish();
      shaper.finish(true);
      let changes: ChangeCounts | undefined;
      if (tracker && stream.stats.ended === 'complete') {
        const diff = tracker.diff();
        changes = diff.counts;
        sendRemoved(RED, msg, mode, send, diff.removed);
        await new Promise<void>((resolve) => setImmediate(resolve));
        tracker.commit();
      } else {
        tracker?.discard();
      }
      keeper?.ended();
      const summary = { ...summarise(stream.stats, stream.stats.ended ?? 'complete'), ...changes };
      if (answering) send([summaryMessage(RED, msg, result(job!, gathered, summary)), null]);
      send([null, summaryMessage(RED, msg, summary)]);
      const burst = tally(summary.items);
      if (summary.ended === 'max-items') {
        node.status({ fill: 'yellow', shape: 'dot', text: t('status.max-items', { items: count('items', summary.items) }) });
      } else if (summary.warnings.length) {
        node.status({ fill: 'green', shape: 'dot', text: t('status.done-warnings', { items: count('items', summary.items), warnings: count('warnings', summary.warnings.length) }) });
      } else if (burst.inputs > 1) {
        // One input per image, say: the status tells the whole run, not the last image alone.
        node.status({ fill: 'green', shape: 'dot', text: t('status.done-inputs', { items: count('items', burst.items), inputs: count('inputs', burst.inputs) }) });
      } else {
        node.status({ fill: 'green', shape: 'dot', text: t('status.done', { items: count('items', summary.items) }) });
      }
      finish();
    } catch (caught) {
      if (closing.signal.aborted) return finish();
      const error = asError(caught);
      try {
        shaper?.finish(false);
        keeper?.flushed();
      } catch {
        // The held item could not be sent; the error below still ends the input.
      }
      const stats = stream?.stats ?? { items: 0, pages: 0, requests: 0, retries: 0, cellsSplit: 0, warnings: [], startedAt: Date.now(), durationMs: 0 };
      try {
        // A worker tells its coordinator that the job failed (none of its items count), so that it is sent again.
        if (answering && job) send([summaryMessage(RED, msg, result(job, [], summarise(stats, 'error', error))), null]);
        send([null, summaryMessage(RED, msg, summarise(stats, 'error', error))]);
      } finally {
        node.status({ fill: 'red', shape: 'ring', text: t('status.error', { code: error.code, reason: shortReason(error) }) });
        finish(error);
      }
    }
  }

  serveInputs(node, closing, run, (waiting) => node.status({ fill: 'grey', shape: 'ring', text: t('status.queued', { count: waiting }) }));
}

/**
 * Serves a node's inputs one after the other: `run` gets each message and a `finish` that calls
 * Node-RED's `done` exactly once, whatever happens on the way. Nothing an input does can reject
 * the queue: the next input is always served. `queued` is told how many inputs wait behind the
 * one running. On close, `closing` is aborted and the input running is waited for.
 */
export function serveInputs(
  node: Node, closing: AbortController, run: (msg: NodeMessage, send: Send, finish: Done) => Promise<void>, queued?: (waiting: number) => void,
): void {
  let queue: Promise<void> = Promise.resolve();
  let waiting = 0;
  node.on('input', (msg, send, done) => {
    let ended = false;
    const finish: Done = (error) => {
      if (ended) return;
      ended = true;
      try {
        done(error);
      } catch (failure) {
        if (!error) throw failure;
        // Node-RED could not copy the message to tell Catch nodes (nested too deeply): they are
        // told with a message holding its id and topic only.
        node.error(error, { _msgid: msg._msgid, topic: msg.topic });
      }
    };
    waiting += 1;
    if (waiting > 1) queued?.(waiting - 1);
    queue = queue
      .then(() => run(msg, send, finish))
      .catch((error: unknown) => {
        // A failure while reporting a failure: the input still ends with a coded error.
        try {
          node.status({ fill: 'red', shape: 'ring', text: asError(error).code });
        } catch { /* nothing more can be said */ }
        finish(asError(error));
      })
      .finally(() => {
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
