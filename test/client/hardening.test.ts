import assert from 'node:assert/strict';
import { errorFromResponse } from '../../src/transport/classify';
import { isRetryable } from '../../src/transport/retry';
import { AREAS, world } from '../../sandbox/data';
import { useSandbox } from '../support';
import { duplicates, requestsTo, sandboxClient, useClient } from './setup';

const sorted = (ids: string[]) => [...ids].sort();

describe('client hardening over HTTP: query timeouts, many listeners, long id lists', function () {
  this.timeout(60_000);
  const sandbox = useSandbox();
  const client = useClient(sandbox);

  it('reads Mapillary\'s query timeout (HTTP 400, code -2, subcode 3404014, "not transient") as a transient timeout', () => {
    const body = JSON.stringify({ error: { message: 'Query timed out', code: -2, error_subcode: 3404014, is_transient: false, fbtrace_id: 'x' } });
    const error = errorFromResponse('GET /images', 400, {}, body, []);
    assert.equal(error.code, 'MAPILLARY_TIMEOUT');
    assert.equal(error.transient, true);
    assert.equal(isRetryable(error), true);
    assert.equal(errorFromResponse('GET /images', 400, {}, JSON.stringify({ error: { code: -2, is_transient: false } }), []).transient, true);
  });

  it('retries a query timeout, and splits a cell that keeps timing out; every image once', async () => {
    sandbox.inject({ kind: '400-query-timeout', path: '/images', times: 1 });
    const once = await client.searchImages({ bbox: AREAS.suburb }, { concurrency: 1 }).toArray();
    assert.deepEqual(sorted(once.map((i) => i.id)), sorted(world.imagesIn(AREAS.suburb).map((i) => i.id)));

    sandbox.resetLog();
    // The first cell times out on every attempt (6): it is split, and its quarters answer.
    sandbox.inject({ kind: '400-query-timeout', path: '/images', times: 6 });
    const stream = client.searchImages({ bbox: AREAS.suburb }, { concurrency: 1 });
    const items = await stream.toArray();
    assert.deepEqual(duplicates(items.map((i) => i.id)), []);
    assert.deepEqual(sorted(items.map((i) => i.id)), sorted(world.imagesIn(AREAS.suburb).map((i) => i.id)));
    assert.equal(stream.stats.cellsSplit, 1);
    assert.equal(stream.stats.retries, 5);
    assert.equal(stream.stats.ended, 'complete');
    assert.equal(sandbox.stats().faults['400-query-timeout'], 6);
  });

  it('runs 16 cells at once without Node\'s MaxListenersExceededWarning', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const wide = sandboxClient(sandbox, { concurrency: 16 });
      const items = await wide.searchImages({ bbox: AREAS.denseCentre, limit: 200 }).toArray();
      await wide.close();
      assert.equal(items.length, world.imagesIn(AREAS.denseCentre).length);
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      process.off('warning', onWarning);
    }
    assert.deepEqual(warnings.map((w) => `${w.name}: ${w.message}`), []);
  });

  it('sends a long image id list in several requests, each URL within a safe length; every image once', async () => {
    const real = world.images.slice(0, 3000).map((i) => i.id);
    const ids = [...real, ...Array.from({ length: 7000 }, (_, i) => String(9_000_000_000 + i))];
    const items = await client.searchImages({ imageIds: ids }).toArray();
    assert.deepEqual(sorted(items.map((i) => i.id)), sorted(real));
    const requests = requestsTo(sandbox, '/images');
    assert.ok(requests.length >= 30, `${requests.length} requests`);
    assert.ok(requests.every((r) => r.url.length < 6000), `longest URL ${Math.max(...requests.map((r) => r.url.length))}`);

    sandbox.resetLog();
    const entities = await client.getImages(real.slice(0, 1500), 'id');
    assert.deepEqual(entities.map((e) => e.id), real.slice(0, 1500), 'in the order asked');
    assert.ok(sandbox.requests.length > 1 && sandbox.requests.every((r) => r.url.length < 6000));
  });

  it('refuses more than 10,000 ids, and object values over 4,000 characters, before any request', () => {
    assert.throws(() => client.searchImages({ imageIds: Array.from({ length: 10_001 }, (_, i) => String(i + 1)) }), /too many items: 10,001, the limit is 10,000/);
    assert.throws(() => client.searchMapFeatures({ bbox: AREAS.sea, objectValues: Array.from({ length: 300 }, (_, i) => `regulatory--class-${i}`) }), /the limit is 4,000/);
    assert.equal(sandbox.requests.length, 0);
  });
});
