import assert from 'node:assert/strict';
import type { MapillaryClient } from '../../src/client';
import type { RetryInfo } from '../../src/transport/types';
import { SANDBOX_CREDENTIALS, world } from '../../sandbox/data';
import { type Sandbox, startSandbox } from '../../sandbox/server';
import { sandboxClient } from './setup';

describe('faults and retries over HTTP', function () {
  this.timeout(30_000);
  let sandbox: Sandbox;
  let client: MapillaryClient;
  let retries: RetryInfo[];
  const imageId = () => world.images[0]!.id;

  before(async () => {
    sandbox = await startSandbox();
  });
  after(async () => {
    await sandbox.close();
  });
  beforeEach(() => {
    sandbox.clearFaults();
    sandbox.resetLog();
    retries = [];
    client = sandboxClient(sandbox, { onRetry: (info) => retries.push(info) });
  });
  afterEach(async () => {
    await client.close();
  });

  for (const kind of ['429', '403-4', '5xx', 'reset', 'malformed', 'truncated'] as const) {
    it(`retries after a ${kind} and succeeds`, async () => {
      sandbox.inject({ kind, path: new RegExp(`^/${imageId()}$`), times: 2 });
      const image = await client.getImage(imageId());
      assert.equal(image.id, imageId());
      assert.equal(retries.length, 2);
      assert.equal(sandbox.requests.length, 3);
      assert.ok(retries.every((r) => r.endpoint === `GET /${imageId()}`));
    });
  }

  it('waits what Retry-After says (capped by maxRetryAfterMs)', async () => {
    sandbox.inject({ kind: '429', path: new RegExp(`^/${imageId()}$`), retryAfter: 0.1 });
    sandbox.inject({ kind: '403-4', path: new RegExp(`^/${imageId()}$`), retryAfter: 3600 });
    await client.getImage(imageId());
    assert.deepEqual(retries.map((r) => [r.error.code, r.delayMs]), [['MAPILLARY_RATE_LIMITED', 100], ['MAPILLARY_RATE_LIMITED', 200]]);
  });

  it('gives up after maxAttempts with the last error', async () => {
    sandbox.inject({ kind: '5xx', path: new RegExp(`^/${imageId()}$`), times: 100 });
    await assert.rejects(client.getImage(imageId()), { code: 'MAPILLARY_HTTP' });
    assert.equal(sandbox.requests.length, 6);
  });

  it('fails at once on 401 code 190, and the message holds no token', async () => {
    sandbox.inject({ kind: '401-190', path: new RegExp(`^/${imageId()}$`) });
    const error = (await client.getImage(imageId()).then(() => undefined, (e: unknown) => e)) as Error & { code: string };
    assert.equal(error.code, 'MAPILLARY_AUTH');
    assert.ok(!error.message.includes(SANDBOX_CREDENTIALS.clientToken));
    assert.ok(!JSON.stringify(error).includes('sandbox-client-token'));
    assert.equal(sandbox.requests.length, 1);
  });

  it('reports a slow answer as MAPILLARY_TIMEOUT after retrying', async () => {
    const quick = sandboxClient(sandbox, { timeoutMs: 100, retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 } });
    try {
      sandbox.inject({ kind: 'slow', delayMs: 2000, times: 2, path: new RegExp(`^/${imageId()}$`) });
      await assert.rejects(quick.getImage(imageId()), { code: 'MAPILLARY_TIMEOUT', message: /within 100 ms/ });
      assert.equal(sandbox.requests.length, 2);
    } finally {
      await quick.close();
    }
  });

  it('reports a wrong token as MAPILLARY_AUTH', async () => {
    const wrong = sandboxClient(sandbox, { clientToken: 'MLY|4242|wrong' });
    try {
      await assert.rejects(wrong.getImage(imageId()), { code: 'MAPILLARY_AUTH', status: 401 });
    } finally {
      await wrong.close();
    }
  });

  it('holds a shared requests-per-minute ceiling across calls of one client', async () => {
    const limited = sandboxClient(sandbox, { requestsPerMinute: 120 }); // 20 at once (ten seconds' worth), then 1 per 500 ms
    try {
      const ids = world.images.slice(0, 21).map((i) => i.id);
      const started = Date.now();
      await Promise.all(ids.map((id) => limited.getImage(id)));
      const times = sandbox.requests.map((r) => r.time - started).sort((a, b) => a - b);
      assert.equal(times.length, 21);
      assert.ok(times[19]! - times[0]! < 400, `twenty started at once (${times.join(', ')} ms)`);
      assert.ok(times[20]! - times[0]! >= 400, `the 21st request waited its turn (${times.join(', ')} ms)`);
    } finally {
      await limited.close();
    }
  });
});
