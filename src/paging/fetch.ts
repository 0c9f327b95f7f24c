import type { JsonResponse, RequestSpec, Transport } from '../transport/transport';
import { MalformedResponseError } from '../errors';
import type { Walk } from './walk';

/** One request made on behalf of a walk: counted against its cap, cancelled with it. */
export async function fetchInWalk<T>(transport: Transport, walk: Walk, spec: RequestSpec): Promise<JsonResponse<T>> {
  walk.countRequest(transport.endpointName(spec));
  return transport.json<T>(spec, { signal: walk.signal, onRetry: (info) => walk.retried(info) });
}

interface GraphCollection<T> {
  data?: T[];
  paging?: { next?: string };
}

/** A v4 collection page: its items and, when the API gave one, the URL of the next page. */
export async function fetchCollection<T>(transport: Transport, walk: Walk, url: URL): Promise<{ items: T[]; next?: URL }> {
  const spec: RequestSpec = { api: 'graph', url };
  const endpoint = transport.endpointName(spec);
  const { data } = await fetchInWalk<GraphCollection<T>>(transport, walk, spec);
  if (data === null || typeof data !== 'object' || !Array.isArray(data.data)) {
    throw new MalformedResponseError(`Mapillary ${endpoint}: expected {"data": [...]} in the answer`, { endpoint });
  }
  const next = data.paging?.next;
  return { items: data.data, next: typeof next === 'string' && next !== '' ? resolveNext(next, url, endpoint) : undefined };
}

/** A next-page URL given by the server, resolved against the page that named it. */
export function resolveNext(next: string, current: URL, endpoint: string): URL {
  let url: URL;
  try {
    url = new URL(next, current);
  } catch {
    throw new MalformedResponseError(`Mapillary ${endpoint}: the next-page link is not a URL`, { endpoint });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new MalformedResponseError(`Mapillary ${endpoint}: the next-page link is not http(s)`, { endpoint });
  }
  if (url.href === current.href) {
    throw new MalformedResponseError(`Mapillary ${endpoint}: the next-page link points at the same page`, { endpoint });
  }
  return url;
}
