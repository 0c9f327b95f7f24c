/**
 * Files the nodes keep in Node-RED's user directory (resume records, change states): names made
 * safe, and writes that a crash cannot tear.
 */
import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';

/** A node id or a digest as a file name: Node-RED ids are hex (older ones have a dot); anything else is replaced. */
export const safeName = (name: string): string => name.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 100);

/**
 * Replaces `file` atomically: the parts go to a temporary file, which is flushed to disk, then
 * renamed over it. A crash at any moment leaves the old file or the new one, never a torn one.
 */
export function writeAtomically(file: string, parts: readonly (string | Uint8Array)[]): void {
  const temporary = `${file}.${process.pid}.tmp`;
  const fd = openSync(temporary, 'w');
  try {
    for (const part of parts) {
      if (typeof part === 'string') writeSync(fd, part);
      else writeSync(fd, part);
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, file);
}
