/**
 * The sandbox as a standalone local stand-in for Mapillary:
 *   npx tsx sandbox/cli.ts [--port N]     (default port 4242; 0 picks a free one)
 * Prints the base URLs and the (fake) sandbox credentials; stops on SIGINT or SIGTERM.
 */
import { AREAS, SANDBOX_CREDENTIALS } from './data';
import { startSandbox } from './server';

const DEFAULT_PORT = 4242;

function portArgument(args: string[]): number {
  const index = args.indexOf('--port');
  const text = index >= 0 ? args[index + 1] : args.find((a) => a.startsWith('--port='))?.slice('--port='.length);
  if (text === undefined) return DEFAULT_PORT;
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) throw new Error(`--port needs a number from 0 to 65535, got '${text}'`);
  return port;
}

async function main(): Promise<void> {
  const sandbox = await startSandbox({ port: portArgument(process.argv.slice(2)) });
  const rows: Array<[string, string]> = [
    ['graph API (v4)', sandbox.graphUrl],
    ['legacy API (v3)', sandbox.v3Url],
    ['vector tiles', `${sandbox.tilesUrl}/mly1_public/2/{z}/{x}/{y}?access_token=...`],
    ['authorize', sandbox.authorizeUrl],
    ['token', sandbox.tokenUrl],
    ...Object.entries(SANDBOX_CREDENTIALS).map(([name, value]): [string, string] => [name, value]),
    ...Object.entries(AREAS).map(([name, bbox]): [string, string] => [`area ${name}`, bbox.join(',')]),
  ];
  console.log(`Mapillary sandbox listening on ${sandbox.origin}`);
  for (const [name, value] of rows) console.log(`  ${name.padEnd(18)} ${value}`);
  console.log('Press Ctrl+C to stop.');
  const stop = (): void => {
    sandbox.close().then(() => console.log('Mapillary sandbox stopped.'), (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    });
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
