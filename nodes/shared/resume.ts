/**
 * Records of harvests that resume after a stop (the "Resume after a stop" setting): one small
 * JSON file per node and search in `<userDir>/mapillary/resume/<node id>/<search digest>.json`,
 * holding the client's checkpoint (the cells still to ask for, never the items). Each write goes
 * to a temporary file, is flushed to disk, then renamed over the record, so a crash at any moment
 * leaves the previous record or the new one, never a torn one. Records of nodes no longer in the
 * flows are removed when the flows start, and any record untouched for RECORD_DAYS expires.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Checkpoint } from '../../src';
import { safeName as safe, writeAtomically } from './files';
import type { NodeAPI } from './red';

/** A record not written for this many days is removed (its search is not run any more, say). */
export const RECORD_DAYS = 30;
const DAY_MS = 24 * 3600 * 1000;

export function resumeDir(RED: NodeAPI): string | undefined {
  return RED.settings.userDir ? join(RED.settings.userDir, 'mapillary', 'resume') : undefined;
}

export class ResumeRecords {
  private readonly dir: string;

  constructor(root: string, nodeId: string) {
    this.dir = join(root, safe(nodeId));
  }

  private file(search: string): string {
    return join(this.dir, `${safe(search)}.json`);
  }

  /** The record of this search, or undefined (none, or unreadable: the harvest then starts afresh). */
  load(search: string): unknown {
    try {
      return JSON.parse(readFileSync(this.file(search), 'utf8'));
    } catch {
      return undefined;
    }
  }

  /** Replaces the record of this search, atomically (flushed, then renamed over it). */
  save(search: string, checkpoint: Checkpoint): void {
    mkdirSync(this.dir, { recursive: true });
    writeAtomically(this.file(search), [JSON.stringify(checkpoint)]);
  }

  clear(search: string): void {
    rmSync(this.file(search), { force: true });
  }

  /** Removes this node's records older than RECORD_DAYS, and temporary files left by a crash. */
  expire(now = Date.now()): void {
    for (const name of list(this.dir)) {
      const path = join(this.dir, name);
      try {
        if (name.endsWith('.tmp') || now - statSync(path).mtimeMs > RECORD_DAYS * DAY_MS) unlinkSync(path);
      } catch { /* gone already */ }
    }
  }
}

/** The runtime API last registered with each runtime's events (the module may be registered again, with new settings). */
const watched = new WeakMap<object, NodeAPI>();

/** Once per runtime: each time the flows start (at start, after each deploy), the records of nodes gone from them are removed. */
export function watchRecords(RED: NodeAPI): void {
  const events = RED.events;
  if (!events) return;
  const listening = watched.has(events);
  watched.set(events, RED);
  if (listening) return;
  events.on('flows:started', () => {
    const latest = watched.get(events)!;
    const root = resumeDir(latest);
    if (root) removeRecordsOfOtherNodes(root, (id) => latest.nodes.getNode(id) != null);
  });
}

/** Removes the records of nodes that are not in the flows any more. */
export function removeRecordsOfOtherNodes(root: string, exists: (nodeId: string) => boolean): void {
  for (const name of list(root)) {
    if (!exists(name)) rmSync(join(root, name), { recursive: true, force: true });
  }
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
