import { MapillaryClient, type MapillaryClientOptions } from '../../src/client';
import { SANDBOX_CREDENTIALS } from '../../sandbox/data';
import type { Sandbox } from '../../sandbox/server';

/** A client pointed at the sandbox, with quick retries so fault tests stay short. */
export function sandboxClient(sandbox: Sandbox, options: MapillaryClientOptions = {}): MapillaryClient {
  return new MapillaryClient({
    clientId: SANDBOX_CREDENTIALS.clientId,
    clientToken: SANDBOX_CREDENTIALS.clientToken,
    clientSecret: SANDBOX_CREDENTIALS.clientSecret,
    baseUrls: {
      graph: sandbox.graphUrl,
      v3: sandbox.v3Url,
      tiles: sandbox.tilesUrl,
      authorize: sandbox.authorizeUrl,
      token: sandbox.tokenUrl,
    },
    retry: { baseDelayMs: 5, maxDelayMs: 50, maxRetryAfterMs: 200, maxAttempts: 6 },
    requestsPerMinute: 0,
    timeoutMs: 5000,
    ...options,
  });
}

/**
 * Mocha hooks of a client test file: a new client on the sandbox for each test, closed after it.
 * Returns a stand-in to use as that client.
 */
export function useClient(sandbox: Sandbox, options: MapillaryClientOptions = {}): MapillaryClient {
  let current: MapillaryClient | undefined;
  beforeEach(() => {
    current = sandboxClient(sandbox, options);
  });
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });
  return new Proxy({} as MapillaryClient, {
    get(_target, key) {
      if (!current) throw new Error(`no client here (client.${String(key)} outside a test?)`);
      const value: unknown = Reflect.get(current, key);
      return typeof value === 'function' ? value.bind(current) : value;
    },
  });
}

/** Every request the sandbox saw for a path (prefix stripped), e.g. '/images'. */
export function requestsTo(sandbox: Sandbox, path: string): Sandbox['requests'] {
  return sandbox.requests.filter((r) => new URL(r.url, sandbox.origin).pathname.endsWith(path));
}

/** Ids that occur more than once. */
export function duplicates(ids: string[]): string[] {
  const seen = new Set<string>();
  return ids.filter((id) => (seen.has(id) ? true : (seen.add(id), false)));
}
