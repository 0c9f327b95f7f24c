import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { AREAS } from '../../sandbox/data';
import { type Sandbox } from '../../sandbox/server';
import { useSandbox } from '../support';
import { sandboxClient } from './setup';

function runChild(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import=tsx', join(__dirname, 'abort-child.ts'), ...args], { timeout: 20_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
    });
  });
}

async function settledConnections(sandbox: Sandbox): Promise<number> {
  for (let i = 0; i < 50; i++) {
    if ((await sandbox.openConnections()) === 0) return 0;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return sandbox.openConnections();
}

describe('stopping a harvest early', function () {
  this.timeout(30_000);
  const sandbox = useSandbox();

  for (const mode of ['abort', 'break'] as const) {
    it(`${mode} mid-harvest leaves no open sockets or timers, and the process exits by itself`, async () => {
      // The first cell answers at once, later ones slowly: requests are in flight when the consumer stops.
      sandbox.inject({ kind: 'slow', path: '/images', delayMs: 10, times: 1 });
      sandbox.inject({ kind: 'slow', path: '/images', delayMs: 3000, times: 1000 });
      const { code, stdout, stderr } = await runChild([sandbox.graphUrl, mode, AREAS.suburb.join(',')]);
      assert.equal(code, 0, stderr);
      const report = JSON.parse(stdout.trim().split('\n').pop()!);
      assert.equal(report.outcome, mode === 'abort' ? 'MAPILLARY_ABORTED' : 'broke');
      assert.equal(report.ended, 'aborted');
      assert.deepEqual(report.resources.filter((r: string) => /TCP|Timeout/.test(r)), []);
      assert.equal(await settledConnections(sandbox), 0, 'the sandbox sees every connection closed');
    });
  }

  it('an aborted walk sends no request after the abort', async () => {
    const client = sandboxClient(sandbox, { concurrency: 2 });
    const controller = new AbortController();
    const stream = client.searchImages({ bbox: AREAS.suburb }, { signal: controller.signal });
    let countAtAbort = 0;
    await assert.rejects(async () => {
      for await (const page of stream) {
        if (page.items.length > 0 && countAtAbort === 0) {
          countAtAbort = sandbox.requests.length;
          controller.abort();
        }
      }
    }, { code: 'MAPILLARY_ABORTED' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.ok(sandbox.requests.length <= countAtAbort + 1, `${sandbox.requests.length} requests seen, ${countAtAbort} at the abort`);
    await client.close();
    assert.equal(await settledConnections(sandbox), 0);
  });

  it('a closed client refuses new calls with MAPILLARY_ABORTED', async () => {
    const client = sandboxClient(sandbox);
    await client.close();
    await assert.rejects(client.getImage('1'), { code: 'MAPILLARY_ABORTED' });
    await assert.rejects(client.searchImages({ bbox: AREAS.sea }).toArray(), { code: 'MAPILLARY_ABORTED' });
  });
});
