/**
 * Jobs of a planned harvest, and their results: what a planning node sends (one job per cell of
 * the area), what a worker's node harvests (exactly its cells, owning items on their edges as the
 * whole area's harvest would) and sends back (one result per job), and what the coordinator
 * (`mapillary-jobs`) gathers. All plain JSON, to travel over MQTT or anything else; a job comes
 * from outside the process, so it is checked before use (its cells by the client, against the
 * area of its search).
 */
import { type CheckpointCell, InvalidInputError } from '../../src';
import type { Summary } from './messages';

export type JobKind = 'images' | 'map features';

export interface Job {
  type: 'mapillary-job';
  version: 1;
  kind: JobKind;
  /** The plan it is part of (unique per planning input), its place in it, and how many jobs the plan has. */
  plan: string;
  index: number;
  count: number;
  /** The search as the planning node made it (area, filters, fields), and its digest. */
  search: Record<string, unknown>;
  digest: string;
  /** The cells to harvest (one per job), as the client's plan gives them. */
  cells: CheckpointCell[];
  /** Set by the coordinator each time it sends the job (1, 2, ...). */
  attempt?: number;
}

export interface JobResult {
  type: 'mapillary-result';
  version: 1;
  kind: JobKind;
  plan: string;
  index: number;
  count: number;
  attempt: number;
  /** Every item of the job's cells (empty when the harvest failed). */
  items: unknown[];
  summary: Summary;
}

const MAX_PLAN_ID = 100;
/** Jobs of one plan, at most: a plan never has more jobs than max requests allows cells. */
const MAX_JOBS = 1_000_000;

const isCount = (value: unknown, max: number): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value <= max;

/** A job, or a job's result, by its `type` (anything else is not one). */
export function isJob(value: unknown): value is { type: 'mapillary-job' } {
  return !!value && typeof value === 'object' && (value as { type?: unknown }).type === 'mapillary-job';
}

export function isResult(value: unknown): value is { type: 'mapillary-result' } {
  return !!value && typeof value === 'object' && (value as { type?: unknown }).type === 'mapillary-result';
}

/** The parts every job and result share, checked; `what` names it in errors. */
function readHeader(value: Record<string, unknown>, what: string): { kind: JobKind; plan: string; index: number; count: number; attempt?: number } {
  const bad = (why: string): never => {
    throw new InvalidInputError(`${what}: ${why}`);
  };
  if (value.version !== 1) bad('unknown version');
  if (value.kind !== 'images' && value.kind !== 'map features') bad('kind is not "images" or "map features"');
  if (typeof value.plan !== 'string' || value.plan.length === 0 || value.plan.length > MAX_PLAN_ID) bad(`plan is not an id of at most ${MAX_PLAN_ID} characters`);
  if (!isCount(value.count, MAX_JOBS) || value.count < 1) bad('count is not a number of jobs');
  if (!isCount(value.index, MAX_JOBS) || (value.index as number) >= (value.count as number)) bad('index is not a job of the plan');
  if (value.attempt !== undefined && (!isCount(value.attempt, 1000) || value.attempt < 1)) bad('attempt is not a number');
  return { kind: value.kind as JobKind, plan: value.plan as string, index: value.index as number, count: value.count as number, ...(value.attempt === undefined ? {} : { attempt: value.attempt as number }) };
}

/** A job read from a message, checked for its shape (its cells are checked by the client against its search). */
export function readJob(value: unknown): Job {
  const job = value as Record<string, unknown>;
  const header = readHeader(job, 'job');
  if (!job.search || typeof job.search !== 'object' || Array.isArray(job.search)) throw new InvalidInputError('job: search is not an object');
  if (typeof job.digest !== 'string' || !/^[0-9a-f]{32}$/.test(job.digest)) throw new InvalidInputError('job: digest is not a search digest');
  if (!Array.isArray(job.cells)) throw new InvalidInputError('job: cells is not a list');
  return { type: 'mapillary-job', version: 1, ...header, search: job.search as Record<string, unknown>, digest: job.digest, cells: job.cells as CheckpointCell[] };
}

/** A result read from a message, checked for its shape. */
export function readResult(value: unknown): JobResult {
  const result = value as Record<string, unknown>;
  const header = readHeader(result, 'result');
  if (header.attempt === undefined) throw new InvalidInputError('result: attempt is missing');
  if (!Array.isArray(result.items)) throw new InvalidInputError('result: items is not a list');
  const summary = result.summary as Summary | undefined;
  if (!summary || typeof summary !== 'object' || typeof summary.ended !== 'string') throw new InvalidInputError('result: summary is missing');
  return { type: 'mapillary-result', version: 1, ...header, attempt: header.attempt, items: result.items, summary };
}
