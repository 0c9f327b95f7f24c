import type { Transport } from '../transport/transport';
import { fetchCollection } from './fetch';
import type { Page, Walk } from './walk';

/**
 * Pages of a v4 collection, following `paging.next` while the API gives one. The next URL
 * carries a cursor and no token: credentials are added again (same origin only).
 */
export function followNext<T>(transport: Transport, first: URL) {
  return async function* pages(walk: Walk): AsyncGenerator<Page<T>, void, undefined> {
    let url: URL | undefined = first;
    while (url && !walk.full) {
      const { items, next }: { items: T[]; next?: URL } = await fetchCollection<T>(transport, walk, url);
      yield walk.page(items);
      url = next;
    }
  };
}
