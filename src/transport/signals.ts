import { setMaxListeners } from 'node:events';

/**
 * A controller whose signal may have any number of listeners: a walk's or a client's signal
 * is listened to once per request in flight, so Node's default warning at 10 would be noise.
 */
export function sharedController(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}

/** An AbortSignal that aborts when any of `signals` does; `dispose()` detaches it. */
export function linkSignals(...signals: (AbortSignal | undefined)[]): { signal: AbortSignal; dispose: () => void; abort: () => void } {
  const controller = sharedController();
  const onAbort = (): void => controller.abort();
  const sources = signals.filter((s): s is AbortSignal => s !== undefined);
  for (const source of sources) {
    if (source.aborted) controller.abort();
    else source.addEventListener('abort', onAbort, { once: true });
  }
  const dispose = (): void => {
    for (const source of sources) source.removeEventListener('abort', onAbort);
  };
  return { signal: controller.signal, dispose, abort: () => controller.abort() };
}
