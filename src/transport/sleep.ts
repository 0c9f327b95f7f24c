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
