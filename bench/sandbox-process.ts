/**
 * The sandbox with its density worlds in a process of its own, as a remote server would be (so
 * that its work does not share a CPU with the Node-RED under test):
 *   node --import=tsx bench/sandbox-process.ts [latencyMs]
 * Prints one JSON line with its URLs, then serves until its stdin closes.
 */
import { World } from '../sandbox/data';
import { startSandbox } from '../sandbox/server';
import { densityWorlds } from '../sandbox/worlds';

void (async () => {
  const sandbox = await startSandbox({ world: new World(densityWorlds()), latencyMs: Number(process.argv[2] ?? 0) });
  process.stdout.write(`${JSON.stringify({ graphUrl: sandbox.graphUrl, tilesUrl: sandbox.tilesUrl, origin: sandbox.origin })}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => void sandbox.close().then(() => process.exit(0)));
})();
