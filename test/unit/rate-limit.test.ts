import assert from 'node:assert/strict';
import { RateLimiter } from '../../src/transport/rate-limit';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('rate limiter', () => {
  it('lets a burst of requests start at once, then makes the rest wait their turn, in order', async () => {
    let now = 0;
    const limiter = new RateLimiter(600, () => now, 1); // 10 per second, a burst of one second's worth
    const order: number[] = [];
    const all = Array.from({ length: 13 }, (_, i) => limiter.acquire().then(() => order.push(i)));
    await tick();
    assert.deepEqual(order, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    now += 100; // one more token
    await Promise.race([all[10], new Promise((r) => setTimeout(r, 150))]);
    assert.deepEqual(order.slice(10), [10]);
    now += 1000;
    await Promise.all(all);
    assert.deepEqual(order, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  });

  it('drops a waiter whose signal aborts, and rejects all on close', async () => {
    const now = 0;
    const limiter = new RateLimiter(60, () => now, 1); // 1 per second, no more at once, clock frozen
    await limiter.acquire();
    const controller = new AbortController();
    const aborted = limiter.acquire(controller.signal);
    const closed = limiter.acquire();
    controller.abort();
    await assert.rejects(aborted, { code: 'MAPILLARY_ABORTED' });
    limiter.close();
    await assert.rejects(closed, { code: 'MAPILLARY_ABORTED' });
  });

  it('allows ten seconds worth at once by default, then holds the rate', async () => {
    let now = 0;
    const limiter = new RateLimiter(600, () => now); // 10 per second: 100 at once
    let started = 0;
    const all = Array.from({ length: 102 }, () => limiter.acquire().then(() => started++));
    await tick();
    assert.equal(started, 100);
    now += 100; // one more token
    await Promise.race([all[100], new Promise((r) => setTimeout(r, 300))]);
    assert.equal(started, 101);
    limiter.close();
    await Promise.allSettled(all);
  });

  it('is unlimited at 0', async () => {
    const limiter = new RateLimiter(0);
    await Promise.all(Array.from({ length: 1000 }, () => limiter.acquire()));
  });
});
