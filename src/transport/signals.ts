/** An AbortSignal that aborts when any of `signals` does; `dispose()` detaches it. */
export function linkSignals(...signals: (AbortSignal | undefined)[]): { signal: AbortSignal; dispose: () => void; abort: () => void } {
  const controller = new AbortController();
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
