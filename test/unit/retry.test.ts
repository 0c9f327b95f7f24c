import assert from 'node:assert/strict';
import { errorFromResponse } from '../../src/transport/classify';
import { AuthError, MapillaryError, NetworkError, TimeoutError } from '../../src/errors';
import { DEFAULT_RETRY, isRetryable, parseRetryAfter, retryDelay } from '../../src/transport/retry';

const response = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  errorFromResponse('GET /images', status, headers, typeof body === 'string' ? body : JSON.stringify(body), []);

describe('retry policy', () => {
  it('retries network resets, timeouts, 429, 5xx and transient code 4 on a 403', () => {
    assert.ok(isRetryable(new NetworkError('x', { causeCode: 'ECONNRESET' })));
    assert.ok(isRetryable(new TimeoutError('x')));
    assert.ok(isRetryable(response(429, '')));
    assert.ok(isRetryable(response(502, '<html>bad gateway</html>')));
    assert.ok(isRetryable(response(503, '')));
    assert.ok(isRetryable(response(403, { error: { message: 'Application request limit reached', code: 4, is_transient: true } })));
    assert.ok(isRetryable(response(400, { error: { message: 'temporarily unavailable', code: 2, is_transient: true } })));
  });

  it('does not retry auth, not found, bad request or too much data', () => {
    assert.equal(isRetryable(response(401, { error: { message: 'Invalid OAuth 2.0 Access Token', code: 190 } })), false);
    assert.equal(isRetryable(response(400, { error: { message: 'does not exist', code: 100, error_subcode: 33 } })), false);
    assert.equal(isRetryable(response(400, { error: { message: 'bad bbox', code: 100 } })), false);
    assert.equal(isRetryable(response(500, { error: { message: 'Please reduce the amount of data', code: 1 } })), false);
  });

  it('never retries the token POST once the server answered, but does when the connection failed first', () => {
    const answered = response(500, '');
    assert.equal(retryDelay({ attempt: 1, error: answered, isTokenRequest: true, random: 0 }), undefined);
    assert.equal(retryDelay({ attempt: 1, error: response(429, ''), isTokenRequest: true, random: 0 }), undefined);
    assert.equal(retryDelay({ attempt: 1, error: new TimeoutError('x'), isTokenRequest: true, random: 0 }), undefined);
    assert.notEqual(retryDelay({ attempt: 1, error: new NetworkError('x', { causeCode: 'ECONNREFUSED' }), isTokenRequest: true, random: 0 }), undefined);
  });

  it('backs off exponentially with jitter between half and the whole step, up to the ceiling', () => {
    const error = new NetworkError('x');
    const options = { ...DEFAULT_RETRY, maxAttempts: 20, baseDelayMs: 100, maxDelayMs: 1000 };
    assert.equal(retryDelay({ attempt: 1, error, random: 0 }, options), 50);
    assert.equal(retryDelay({ attempt: 1, error, random: 0.999999 }, options), 100);
    assert.equal(retryDelay({ attempt: 3, error, random: 0 }, options), 200);
    assert.equal(retryDelay({ attempt: 3, error, random: 0.5 }, options), 300);
    assert.equal(retryDelay({ attempt: 10, error, random: 0 }, options), 500);
    assert.equal(retryDelay({ attempt: 10, error, random: 0.999999 }, options), 1000);
  });

  it('stops after maxAttempts', () => {
    const error = new NetworkError('x');
    assert.notEqual(retryDelay({ attempt: 4, error, random: 0 }, { ...DEFAULT_RETRY, maxAttempts: 5 }), undefined);
    assert.equal(retryDelay({ attempt: 5, error, random: 0 }, { ...DEFAULT_RETRY, maxAttempts: 5 }), undefined);
  });

  it('honours Retry-After, capped', () => {
    const limited = response(429, '', { 'retry-after': '7' });
    assert.equal(limited.retryAfterMs, 7000);
    assert.equal(retryDelay({ attempt: 1, error: limited, random: 0.9 }), 7000);
    const long = response(403, { error: { code: 4, is_transient: true, message: 'limit' } }, { 'retry-after': '3600' });
    assert.equal(retryDelay({ attempt: 1, error: long, random: 0 }, { ...DEFAULT_RETRY, maxRetryAfterMs: 60_000 }), 60_000);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-11-24T10:00:00Z');
    assert.equal(parseRetryAfter('120', now), 120_000);
    assert.equal(parseRetryAfter('Tue, 24 Nov 2026 10:00:30 GMT', now), 30_000);
    assert.equal(parseRetryAfter('Tue, 24 Nov 2026 09:00:00 GMT', now), 0);
    assert.equal(parseRetryAfter('soon', now), undefined);
    assert.equal(parseRetryAfter(undefined, now), undefined);
  });
});

describe('error classification', () => {
  it('maps Mapillary codes to classes with stable codes', () => {
    const cases: [number, unknown, string][] = [
      [401, { error: { message: 'Invalid OAuth 2.0 Access Token', type: 'MLYApiException', code: 190, fbtrace_id: 'A1' } }, 'MAPILLARY_AUTH'],
      [400, { error: { message: 'Unsupported get request', code: 100, error_subcode: 33 } }, 'MAPILLARY_NOT_FOUND'],
      [403, { error: { message: 'Application request limit reached', code: 4, is_transient: true } }, 'MAPILLARY_RATE_LIMITED'],
      [429, 'Too Many Requests', 'MAPILLARY_RATE_LIMITED'],
      [500, { error: { message: "Please reduce the amount of data you're asking for, then retry your request", code: 1 } }, 'MAPILLARY_TOO_MUCH_DATA'],
      [400, { error: { message: 'Invalid bbox', code: 100 } }, 'MAPILLARY_BAD_REQUEST'],
      [403, { error: { message: 'Permission denied', code: 10 } }, 'MAPILLARY_AUTH'],
      [502, '<html>Bad Gateway</html>', 'MAPILLARY_HTTP'],
      [404, { message: 'not found' }, 'MAPILLARY_NOT_FOUND'],
    ];
    for (const [status, body, code] of cases) {
      const error = response(status, body);
      assert.ok(error instanceof MapillaryError);
      assert.equal(error.code, code, `${status} ${JSON.stringify(body)}`);
      assert.equal(error.status, status);
      assert.match(error.message, /^Mapillary GET \/images failed: /);
    }
    const auth = response(401, { error: { message: 'Invalid OAuth 2.0 Access Token', code: 190, fbtrace_id: 'A1' } });
    assert.ok(auth instanceof AuthError);
    assert.equal(auth.mapillaryCode, 190);
    assert.equal(auth.fbtraceId, 'A1');
    assert.deepEqual(Object.keys(auth.toJSON()).sort(), ['code', 'endpoint', 'fbtraceId', 'mapillaryCode', 'message', 'name', 'status']);
  });

  it('never repeats a secret the server echoed back', () => {
    const secret = 'MLY|4242|echoed-secret-value';
    const error = errorFromResponse('GET /images', 400, {}, JSON.stringify({ error: { message: `bad token ${secret} given`, code: 100 } }), [secret]);
    assert.ok(!error.message.includes(secret));
    assert.match(error.message, /bad token \*\*\* given/);
  });
});
