import { AbortError } from '../errors';

/** Waits `ms`, or rejects with `AbortError` as soon as `signal` aborts; leaves no timer behind. */
export function sleep(ms: number, signal?: AbortSignal, what = 'wait'): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortError(`Mapillary ${what}: aborted`));
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new AbortError(`Mapillary ${what}: aborted`));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * For long synchronous work: `turn()` gives the event loop a turn when `everyMs` have passed
 * since the last one, so no loop holds Node-RED for longer than that.
 */
export function eventLoopTurns(everyMs = 20): { turn(): Promise<void> | undefined } {
  let since = Date.now();
  return {
    turn() {
      if (Date.now() - since < everyMs) return undefined;
      return new Promise<void>((resolve) => setImmediate(() => {
        since = Date.now();
        resolve();
      }));
    },
  };
}
