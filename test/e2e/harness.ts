/**
 * What the end-to-end tests share: the package as published (`npm pack`, once per test file),
 * installed from its tarball into a fresh Node-RED user directory, and a Node-RED process whose
 * output is kept, so that a failure can show it.
 */
import { strict as assert } from 'node:assert';
import { type ChildProcess, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT, startNodeRed, type StartOptions, stopProcess, waitForNodeRed } from '../../scripts/node-red-home';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** The npm environment without what an enclosing `npm test` sets for this project. */
export function npmEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^npm_(package_|lifecycle_|config_(local_prefix|prefix)$)/i.test(name)) env[name] = value;
  }
  return env;
}

/** Runs npm quietly; its output (the build's, for npm pack) is shown only when it fails. */
export function runNpm(args: string[], cwd: string, timeoutMs = 80_000): void {
  const result = spawnSync(npm, [...args, '--loglevel', 'error'], { cwd, env: npmEnv(), encoding: 'utf8', timeout: timeoutMs });
  if (result.status !== 0) {
    throw new Error(`npm ${args[0]} failed (${result.error?.message ?? `exit ${result.status ?? result.signal}`}):\n${result.stdout ?? ''}${result.stderr ?? ''}`);
  }
}

/**
 * The package as published: npm pack (runs `prepare`, the build, and applies "files") into
 * `packDir` (created). Returns the tarball's path.
 */
export function packPackage(packDir: string): string {
  mkdirSync(packDir, { recursive: true });
  runNpm(['pack', '--pack-destination', packDir], PROJECT_ROOT);
  const tarballs = readdirSync(packDir).filter((name) => name.endsWith('.tgz'));
  assert.equal(tarballs.length, 1, `npm pack made ${tarballs.join(', ') || 'nothing'}`);
  return join(packDir, tarballs[0]);
}

/** A new Node-RED user directory `userDir` (created) with the tarball npm-installed into its node_modules. */
export function installTarball(tarball: string, userDir: string): void {
  mkdirSync(userDir, { recursive: true });
  writeFileSync(join(userDir, 'package.json'), `${JSON.stringify({ name: 'mapillary-e2e-node-red-home', version: '0.0.0', private: true }, null, 2)}\n`);
  runNpm(['install', tarball, '--no-audit', '--no-fund', '--prefer-offline', '--prefix', userDir], userDir);
}

/** A running Node-RED child process; `log` is everything it printed so far. */
export class NodeRedProcess {
  log = '';

  private constructor(readonly child: ChildProcess, readonly editorUrl: string) {
    child.stdout!.setEncoding('utf8').on('data', (text: string) => { this.log += text; });
    child.stderr!.setEncoding('utf8').on('data', (text: string) => { this.log += text; });
  }

  /**
   * Starts Node-RED (options as startNodeRed; stdio is piped into `log`) and waits until
   * `GET <editorUrl><readyPath>` answers 200. A failure to start carries the log.
   */
  static async start(options: Omit<StartOptions, 'stdio'>, editorUrl: string, readyPath = '/settings', timeoutMs = 60_000): Promise<NodeRedProcess> {
    const running = new NodeRedProcess(startNodeRed({ ...options, stdio: 'pipe' }), editorUrl);
    try {
      await waitForNodeRed(editorUrl, running.child, timeoutMs, readyPath);
    } catch (error) {
      await running.stop();
      throw running.withLog(error);
    }
    return running;
  }

  /** The log lines Node-RED marked `[error]`. */
  errorLines(): string[] {
    return this.log.split('\n').filter((line) => /\[error\]/.test(line));
  }

  /** `error` with Node-RED's log appended (for a readable failure). */
  withLog(error: unknown): Error {
    const message = error instanceof Error ? error.message : String(error);
    const wrapped = new Error(`${message}\n--- Node-RED log ---\n${this.log.trimEnd()}\n--- end of Node-RED log ---`);
    if (error instanceof Error && error.stack) wrapped.stack = `${wrapped.message}\n${error.stack.split('\n').slice(1).join('\n')}`;
    return wrapped;
  }

  /** SIGTERM, SIGKILL after `graceMs`; resolves once the process has exited. */
  stop(graceMs = 10_000): Promise<void> {
    return stopProcess(this.child, graceMs);
  }
}
