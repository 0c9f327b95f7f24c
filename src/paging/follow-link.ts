import type { JsonResponse, RequestSpec, Transport } from '../transport/transport';
import { MalformedResponseError } from '../errors';
import { fetchInWalk, resolveNext } from './fetch';
import type { Page, Walk } from './walk';

/**
 * `rel` → URL from an HTTP `Link` header. URLs sit between angle brackets and may hold commas
 * (v3 bbox values), so the header is read link by link, not split on commas.
 */
export function parseLinkHeader(value: string | string[] | undefined): Map<string, string> {
  const links = new Map<string, string>();
  const text = Array.isArray(value) ? value.join(', ') : value ?? '';
  const pattern = /<([^>]*)>((?:\s*;\s*[^;,<]+)*)/g;
  for (const match of text.matchAll(pattern)) {
    const rel = /;\s*rel\s*=\s*"?([^";]+)"?/i.exec(match[2] ?? '');
    if (!rel?.[1]) continue;
    for (const name of rel[1].trim().split(/\s+/)) {
      if (!links.has(name.toLowerCase())) links.set(name.toLowerCase(), match[1]!);
    }
  }
  return links;
}

interface FeatureCollection<T> {
  type?: string;
  features?: T[];
}

/**
 * Pages of a legacy v3 search: each answer is a GeoJSON FeatureCollection and the next page
 * is the opaque URL of the `Link` header's `rel="next"` (page numbers built by hand lost items).
 * A next link to another origin is followed without credentials.
 */
export function followLink<T>(transport: Transport, first: URL) {
  return async function* pages(walk: Walk): AsyncGenerator<Page<T>, void, undefined> {
    let url: URL | undefined = first;
    while (url && !walk.full) {
      const spec: RequestSpec = { api: 'v3', url };
      const endpoint = transport.endpointName(spec);
      const response: JsonResponse<FeatureCollection<T>> = await fetchInWalk<FeatureCollection<T>>(transport, walk, spec);
      const features = response.data?.features;
      if (!Array.isArray(features)) {
        throw new MalformedResponseError(`Mapillary ${endpoint}: expected a GeoJSON FeatureCollection in the answer`, { endpoint });
      }
      yield walk.page(features);
      const next: string | undefined = parseLinkHeader(response.headers.link).get('next');
      url = next ? resolveNext(next, url, endpoint) : undefined;
    }
  };
}
