// Run by abort.test.ts in a process of its own: harvest, abort after the first page, close the
// client, then report what keeps the process alive. It must exit by itself.
import { MapillaryClient } from '../../src/client';

const [graph, mode] = process.argv.slice(2) as [string, 'abort' | 'break'];
const bbox = process.argv[4]!;

async function main(): Promise<void> {
  const client = new MapillaryClient({ clientToken: 'MLY|4242|sandbox-client-token', baseUrls: { graph }, requestsPerMinute: 600, concurrency: 4 });
  const controller = new AbortController();
  const stream = client.searchImages({ bbox }, { signal: controller.signal });
  let outcome = 'completed';
  try {
    for await (const page of stream) {
      if (page.items.length === 0) continue;
      if (mode === 'break') break;
      controller.abort();
    }
    outcome = mode === 'break' ? 'broke' : 'completed';
  } catch (error) {
    outcome = (error as { code?: string }).code ?? String(error);
  }
  await client.close();
  setImmediate(() => {
    const resources = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap' && r !== 'PipeWrap');
    process.stdout.write(JSON.stringify({ outcome, ended: stream.stats.ended, requests: stream.stats.requests, resources }) + '\n');
  });
}

void main();
