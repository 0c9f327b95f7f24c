import { AbortError } from '../errors';

interface Waiter {
  resolve: () => void;
  reject: (error: Error) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

/**
 * Seconds' worth of requests that may start at once before the rate holds. With it, a minute
 * sees at most the rate plus this burst (6000 + 1000 at the default rate, under the 10,000 a
 * minute of Mapillary's search API), and short harvests one after the other are not slowed
 * (see README, "Benchmarks").
 */
export const BURST_SECONDS = 10;

/**
 * A requests-per-minute ceiling shared by every call of one client (token bucket: up to
 * `burstSeconds` worth of requests may start at once, then the rate holds). Waiters are served
 * in order; a single timer runs only while someone waits.
 */
export class RateLimiter {
  private readonly perMs: number;
  private readonly capacity: number;
  private tokens: number;
  private last: number;
  private readonly queue: Waiter[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(readonly requestsPerMinute: number, private readonly now: () => number = Date.now, burstSeconds = BURST_SECONDS) {
    this.perMs = requestsPerMinute / 60_000;
    this.capacity = Math.max(1, Math.floor((requestsPerMinute / 60) * burstSeconds));
    this.tokens = this.capacity;
    this.last = now();
  }

  get unlimited(): boolean {
    return !Number.isFinite(this.requestsPerMinute) || this.requestsPerMinute <= 0;
  }

  /** Resolves when one more request may start. */
  acquire(signal?: AbortSignal): Promise<void> {
    if (this.unlimited) return Promise.resolve();
    if (signal?.aborted) return Promise.reject(new AbortError('Mapillary request: aborted while waiting for the rate limit'));
    this.refill();
    if (this.queue.length === 0 && this.tokens >= 1) {
      this.tokens -= 1;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, signal };
      if (signal) {
        waiter.onAbort = () => {
          this.queue.splice(this.queue.indexOf(waiter), 1);
          reject(new AbortError('Mapillary request: aborted while waiting for the rate limit'));
          this.schedule();
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.queue.push(waiter);
      this.schedule();
    });
  }

  /** Rejects every waiter (client closing). */
  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const waiter of this.queue.splice(0)) {
      if (waiter.onAbort) waiter.signal?.removeEventListener('abort', waiter.onAbort);
      waiter.reject(new AbortError('Mapillary request: client closed'));
    }
  }

  private refill(): void {
    const now = this.now();
    this.tokens = Math.min(this.capacity, this.tokens + (now - this.last) * this.perMs);
    this.last = now;
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.refill();
    while (this.queue.length > 0 && this.tokens >= 1) {
      this.tokens -= 1;
      const waiter = this.queue.shift()!;
      if (waiter.onAbort) waiter.signal?.removeEventListener('abort', waiter.onAbort);
      waiter.resolve();
    }
    if (this.queue.length > 0) {
      const wait = Math.max(1, Math.ceil((1 - this.tokens) / this.perMs));
      this.timer = setTimeout(() => this.schedule(), wait);
    }
  }
}
