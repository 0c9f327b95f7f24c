/**
 * mapillary jobs: the coordinator of a harvest spread over several Node-RED instances. It takes
 * the jobs of a plan (from an images or map-features node whose output is "one job per cell"),
 * sends them out (to workers, over MQTT say) a few at a time, takes back their results, and sends
 * on the items of each job once:
 *
 * - a job whose result does not come back within the timeout (its worker died, or its message
 *   was lost) is sent again, up to the number of attempts; so is a job whose worker reports a
 *   failure;
 * - the first complete result of a job is taken; any later one (a slow worker answering after
 *   the job was sent again, or MQTT delivering a message twice) is dropped, so no item passes
 *   twice;
 * - when every job is done (or failed for good), a summary goes to output 3.
 *
 * Jobs own the items on their edges as the whole area's harvest would, so the items of all jobs
 * are every item of the area exactly once.
 */
import { isMapillaryError, MapillaryError, TimeoutError } from '../src';
import { asError } from './shared/harvest';
import { isJob, isResult, type Job, type JobResult, readJob, readResult } from './shared/jobs';
import { type OutputMode, Shaper } from './shared/messages';
import type { Node, NodeAPI, NodeDef, NodeMessage } from './shared/red';

interface JobsDef extends NodeDef {
  timeout?: string | number;
  attempts?: string | number;
  inFlight?: string | number;
  output?: string;
}

/** The coordinator's settings: seconds before a job is sent again, sends per job, jobs out at once per plan. */
const JOB_SETTINGS = {
  timeout: { min: 1, max: 86_400, default: 120 },
  attempts: { min: 1, max: 100, default: 3 },
  inFlight: { min: 1, max: 10_000, default: 16 },
} as const;

/** Plans finished lately, remembered so that their late results are recognised (and dropped quietly). */
const FINISHED_KEPT = 100;

interface JobState {
  job: Job;
  attempt: number;
  sentAt: number;
  /** When it was first sent: a job's time runs from there to its complete result. */
  firstSentAt: number;
  state: 'waiting' | 'sent' | 'done' | 'failed';
}

interface PlanState {
  id: string;
  count: number;
  jobs: (JobState | undefined)[];
  registered: number;
  queue: number[];
  inFlight: Set<number>;
  done: number;
  failed: { index: number; code: string; message: string }[];
  items: number;
  sent: number;
  resent: number;
  late: number;
  /** The longest time a job took, first send to complete result. */
  longestJobMs: number;
  startedAt: number;
  /** The first job's message, without the job: what the plan's messages are copies of. */
  msg: NodeMessage;
  shaper: Shaper;
}

function setting(value: unknown, range: { min: number; max: number; default: number }): number {
  if (value === undefined || value === null || value === '') return range.default;
  const n = Number(value);
  return Number.isFinite(n) ? Math.min(range.max, Math.max(range.min, Math.floor(n))) : range.default;
}

export = function register(RED: NodeAPI): void {
  function MapillaryJobs(this: Node, def: JobsDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const t = (key: string, subs?: Record<string, unknown>) => RED._(`mapillary-jobs.${key}`, subs);
    const timeoutMs = setting(def.timeout, JOB_SETTINGS.timeout) * 1000;
    const attempts = setting(def.attempts, JOB_SETTINGS.attempts);
    const inFlightMax = setting(def.inFlight, JOB_SETTINGS.inFlight);
    const mode: OutputMode = def.output === 'item' ? 'item' : 'page';
    const plans = new Map<string, PlanState>();
    const finished = new Map<string, number>();

    const status = (plan?: PlanState): void => {
      if (!plan) return;
      node.status({ fill: 'blue', shape: 'dot', text: t('status.running', { done: plan.done, count: plan.count, out: plan.inFlight.size, resent: plan.resent }) });
    };

    function dispatch(plan: PlanState): void {
      while (plan.inFlight.size < inFlightMax && plan.queue.length > 0) {
        const index = plan.queue.shift()!;
        const job = plan.jobs[index]!;
        // A job sent again may have been answered by its earlier attempt meanwhile.
        if (job.state !== 'waiting') continue;
        job.attempt += 1;
        job.sentAt = Date.now();
        if (job.attempt === 1) job.firstSentAt = job.sentAt;
        job.state = 'sent';
        plan.inFlight.add(index);
        plan.sent += 1;
        const out = RED.util.cloneMessage(plan.msg);
        out.payload = { ...job.job, attempt: job.attempt };
        node.send([out, null, null]);
      }
      status(plan);
    }

    /** The job did not come back done (timeout, failure): sent again, or failed for good. */
    function retry(plan: PlanState, index: number, error: MapillaryError): void {
      const job = plan.jobs[index]!;
      plan.inFlight.delete(index);
      if (job.attempt < attempts) {
        job.state = 'waiting';
        plan.queue.unshift(index);
        plan.resent += 1;
      } else {
        job.state = 'failed';
        plan.failed.push({ index, code: error.code, message: error.message });
        const msg = RED.util.cloneMessage(plan.msg);
        msg.payload = job.job;
        node.error(error, msg);
        finish(plan);
        // Its last job: the plan is over (its status says so).
        if (!plans.has(plan.id)) return;
      }
      dispatch(plan);
    }

    function finish(plan: PlanState): void {
      if (plan.registered < plan.count || plan.done + plan.failed.length < plan.count) return;
      plan.shaper.finish(plan.failed.length === 0);
      plans.delete(plan.id);
      finished.set(plan.id, Date.now());
      if (finished.size > FINISHED_KEPT) finished.delete(finished.keys().next().value!);
      const summary = {
        plan: plan.id, jobs: plan.count, done: plan.done, failed: plan.failed, items: plan.items, sent: plan.sent, resent: plan.resent,
        late: plan.late, longestJobMs: plan.longestJobMs, durationMs: Date.now() - plan.startedAt, ended: plan.failed.length > 0 ? 'error' : 'complete',
      };
      const out = RED.util.cloneMessage(plan.msg);
      out.payload = summary;
      node.send([null, null, out]);
      node.status(plan.failed.length > 0
        ? { fill: 'red', shape: 'ring', text: t('status.failed', { failed: plan.failed.length, count: plan.count, items: plan.items }) }
        : { fill: 'green', shape: 'dot', text: t('status.done', { count: plan.count, items: plan.items, resent: plan.resent }) });
    }

    function addJob(job: Job, msg: NodeMessage): void {
      if (finished.has(job.plan)) return;
      let plan = plans.get(job.plan);
      if (!plan) {
        const base = RED.util.cloneMessage(msg);
        delete base.payload;
        delete base.cell;
        delete base.parts;
        plan = {
          id: job.plan, count: job.count, jobs: [], registered: 0, queue: [], inFlight: new Set(), done: 0, failed: [], items: 0,
          // Items go to output 2: the shaper's sends (to its output 1) are put there.
          sent: 0, resent: 0, late: 0, longestJobMs: 0, startedAt: Date.now(), msg: base,
          shaper: new Shaper(RED, base, mode, 'json', (out) => node.send([null, Array.isArray(out) ? (out[0] as NodeMessage | null) : out, null])),
        };
        plans.set(job.plan, plan);
      }
      if (job.count !== plan.count) throw new MapillaryError('MAPILLARY_INVALID_INPUT', t('errors.count', { plan: job.plan }));
      if (plan.jobs[job.index]) return; // the same job again (sent twice by the planner's flow)
      plan.jobs[job.index] = { job: { ...job, attempt: undefined }, attempt: 0, sentAt: 0, firstSentAt: 0, state: 'waiting' };
      plan.registered += 1;
      plan.queue.push(job.index);
      dispatch(plan);
    }

    function addResult(result: JobResult): void {
      const plan = plans.get(result.plan);
      if (!plan) {
        // A result of a plan done already (a late answer) is dropped; of a plan never seen, it is an error.
        if (finished.has(result.plan)) return;
        throw new MapillaryError('MAPILLARY_INVALID_INPUT', t('errors.unknown-plan', { plan: result.plan }));
      }
      const job = plan.jobs[result.index];
      if (!job || job.state === 'done' || job.state === 'failed') {
        plan.late += 1;
        return;
      }
      if (result.summary.ended === 'complete') {
        job.state = 'done';
        plan.inFlight.delete(result.index);
        plan.done += 1;
        plan.items += result.items.length;
        plan.longestJobMs = Math.max(plan.longestJobMs, Date.now() - job.firstSentAt);
        plan.shaper.page({ items: result.items, index: result.index, warnings: result.summary.warnings as never ?? [], bbox: job.job.cells[0]?.b },
          { plan: plan.id, job: result.index, attempt: result.attempt });
        dispatch(plan);
        finish(plan);
        return;
      }
      // An earlier attempt that failed while a later one is out: the later one answers.
      if (result.attempt !== job.attempt) {
        plan.late += 1;
        return;
      }
      const reported = result.summary.error as { code?: unknown; message?: unknown } | undefined;
      const error = result.summary.ended === 'max-items'
        ? new MapillaryError('MAPILLARY_INVALID_INPUT', t('errors.max-items'))
        : new MapillaryError(typeof reported?.code === 'string' && reported.code.startsWith('MAPILLARY_') ? reported.code as never : 'MAPILLARY_INTERNAL',
          t('errors.worker', { message: typeof reported?.message === 'string' ? reported.message.slice(0, 300) : result.summary.ended }));
      // A worker stopped at its max items gives the same answer every time: it fails at once.
      if (result.summary.ended === 'max-items') job.attempt = attempts;
      retry(plan, result.index, error);
    }

    const timer = setInterval(() => {
      const now = Date.now();
      for (const plan of [...plans.values()]) {
        for (const index of [...plan.inFlight]) {
          const job = plan.jobs[index]!;
          if (now - job.sentAt >= timeoutMs) retry(plan, index, new TimeoutError(t('errors.timeout', { index, plan: plan.id, seconds: timeoutMs / 1000, attempt: job.attempt })));
        }
      }
    }, Math.min(1000, timeoutMs / 4));
    timer.unref?.();

    node.on('input', (msg, _send, done) => {
      try {
        if (isJob(msg.payload)) addJob(readJob(msg.payload), msg);
        else if (isResult(msg.payload)) addResult(readResult(msg.payload));
        else throw new MapillaryError('MAPILLARY_INVALID_INPUT', t('errors.not-job'));
        done();
      } catch (error) {
        done(isMapillaryError(error) ? error : asError(error));
      }
    });

    node.on('close', (_removed, done) => {
      clearInterval(timer);
      plans.clear();
      node.status({});
      done();
    });
  }
  RED.nodes.registerType('mapillary-jobs', MapillaryJobs);
};
