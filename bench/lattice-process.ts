/**
 * The lattice server in a process of its own, as a remote server would be (so that its work
 * does not share a thread with the client being measured):
 *   node --import=tsx bench/lattice-process.ts
 * Prints its URL on one line, then serves until its stdin closes.
 */
import { startLattice } from './lattice';

void startLattice().then((lattice) => {
  process.stdout.write(`${lattice.url}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => void lattice.close().then(() => process.exit(0)));
});
