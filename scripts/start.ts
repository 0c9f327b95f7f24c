/**
 * `npm start`: a local Node-RED 4 with this package installed and the example flows deployed,
 * to try the nodes by hand in the editor at http://127.0.0.1:1880 (PORT=8080 npm start for
 * another port).
 *
 *   npm start                  start; the first start deploys the examples
 *   npm start -- --reset       deploy the examples again, replacing every flow in .node-red/,
 *                              and forget the user tokens kept there (.mapillary-tokens.*)
 *
 * Mapillary: unless MAPILLARY_CLIENT_TOKEN or MAPILLARY_USER_TOKEN is set, the test sandbox
 * (sandbox/, deterministic fake data, no account) runs on 127.0.0.1 (port
 * MAPILLARY_SANDBOX_PORT or a free one) and Node-RED gets the MAPILLARY_* variables the example
 * config nodes read (`${MAPILLARY_GRAPH_URL}`, ..., `${MAPILLARY_CLIENT_TOKEN}`). With a token
 * set, the environment is passed through as it is and the nodes use Mapillary's real API.
 *
 * The Node-RED user directory is .node-red/ in the project (gitignored):
 *   settings.js        written on every start (edits are overwritten)
 *   flows.json         the flows; written by Node-RED when the examples are deployed (on the
 *   flows_cred.json      first start, i.e. when flows.json does not exist, or with --reset) and
 *                        on every deploy from the editor. The example credentials are
 *                        `${MAPILLARY_...}` references, no secrets; encrypted with a fixed key.
 *   .mapillary-tokens.json   user tokens from Authenticate or a refresh, kept across restarts
 *   .mapillary-tokens.key    until the next Deploy (the nodes write them); removed by --reset.
 *   node_modules/@streetflow/node-red-mapillary   a symlink to the project: after
 *                        `npm run build`, restart to load the changed nodes.
 * Node-RED runs in .node-red/ (working directory and fileWorkingDirectory), so files that flows
 * write with a relative name, such as example 03's mapillary-traffic-signs.geojson, land there.
 *
 * MQTT (examples 07 and 08, a harvest spread over workers): unless MQTT_HOST is set, a local
 * mosquitto is started on a free port when Debian's is installed (scripts/ensure-mosquitto.sh
 * installs it, as root), and MQTT_HOST / MQTT_PORT point at it; without one they point at
 * localhost:1883, a broker of your own.
 *
 * Ctrl+C (SIGINT) or SIGTERM stops Node-RED and the sandbox; if Node-RED exits by itself, the
 * sandbox is stopped and this exits with Node-RED's exit code.
 */
import { type ChildProcess, execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { type Sandbox, startSandbox } from '../sandbox/server';
import { type Broker, MOSQUITTO, startBroker } from './mqtt-broker';
import {
  deployFlows, flowsOf, hasRealCredentials, loadExamples, nodeRedEnv, nodeSetProblems, PACKAGE_NAME, packageNodeSets,
  PROJECT_ROOT, resetUserDir, settingsSource, startNodeRed, stopProcess, waitForNodeRed,
} from './node-red-home';

const USAGE = 'usage: npm start [-- --reset]\n  --reset   deploy the example flows again, replacing the flows in .node-red/,\n            and forget the user tokens kept there';
/** Encrypts .node-red/flows_cred.json; a local development home, not a place for real secrets. */
const CREDENTIAL_SECRET = 'streetflow-node-red-mapillary-local-dev';

function portFrom(name: string, fallback: number, allowZero: boolean): number {
  const text = process.env[name]?.trim();
  if (!text) return fallback;
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535 || (port === 0 && !allowZero)) throw new Error(`${name} must be a port number, got '${text}'`);
  return port;
}

/** dist/ holds the compiled nodes Node-RED loads: build it when it is missing. */
function ensureBuilt(root: string): void {
  const nodes = join(root, 'dist', 'nodes');
  if (existsSync(join(nodes, 'mapillary-images.js')) && existsSync(join(nodes, 'mapillary-images.html'))) return;
  console.log('dist/ is missing: building first (node scripts/build.mjs)');
  execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit' });
}

/**
 * Installs the project into the user directory as a symlink (Node-RED scans
 * <userDir>/node_modules and follows it), and lists it in the user directory's package.json as
 * `file:..` so that an npm install there (the palette manager) keeps it.
 */
function installPackage(userDir: string, root: string): void {
  const link = join(userDir, 'node_modules', ...PACKAGE_NAME.split('/'));
  mkdirSync(dirname(link), { recursive: true });
  let linked = false;
  try {
    const stat = lstatSync(link);
    linked = stat.isSymbolicLink() && resolve(dirname(link), readlinkSync(link)) === resolve(root);
    if (!linked) rmSync(link, { recursive: true, force: true });
  } catch {
    // not there yet
  }
  if (!linked) symlinkSync(relative(dirname(link), root) || '.', link, 'dir');

  const manifest = join(userDir, 'package.json');
  const before = existsSync(manifest) ? readFileSync(manifest, 'utf8') : '';
  const pkg = (before ? JSON.parse(before) : { name: 'node-red-project', description: 'npm start home of @streetflow/node-red-mapillary', version: '0.0.1', private: true }) as {
    dependencies?: Record<string, string>;
  };
  pkg.dependencies = { ...pkg.dependencies, [PACKAGE_NAME]: `file:${relative(userDir, root)}` };
  const after = `${JSON.stringify(pkg, null, 4)}\n`;
  if (after !== before) writeFileSync(manifest, after);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    console.log(USAGE);
    return;
  }
  const unknown = args.filter((arg) => arg !== '--reset');
  if (unknown.length > 0) throw new Error(`unknown argument ${unknown.join(' ')}\n${USAGE}`);
  const reset = args.includes('--reset');

  const root = PROJECT_ROOT;
  const userDir = join(root, '.node-red');
  const port = portFrom('PORT', 1880, false);
  const editor = `http://127.0.0.1:${port}`;
  mkdirSync(userDir, { recursive: true });
  ensureBuilt(root);
  installPackage(userDir, root);

  const settingsFile = join(userDir, 'settings.js');
  writeFileSync(settingsFile, settingsSource({
    uiHost: '127.0.0.1', uiPort: port, flowFile: 'flows.json', credentialSecret: CREDENTIAL_SECRET,
    fileWorkingDirectory: userDir, debugMaxLength: 100_000,
  }, 'Written by `npm start` (scripts/start.ts) on every start: edits are overwritten.'));
  if (reset) {
    const removed = resetUserDir(userDir);
    console.log(`--reset: ${removed.length > 0 ? `removed ${removed.join(', ')} from ${relative(root, userDir)}/` : 'nothing to remove'}`);
  }
  const deployExamples = !existsSync(join(userDir, 'flows.json'));

  let sandbox: Sandbox | undefined;
  if (!hasRealCredentials()) sandbox = await startSandbox({ port: portFrom('MAPILLARY_SANDBOX_PORT', 0, true) });
  const env = nodeRedEnv(process.env, sandbox);
  // The broker of the scale-out examples: the user's (MQTT_HOST), a local mosquitto, or localhost:1883.
  let broker: Broker | undefined;
  if (!env.MQTT_HOST) {
    if (existsSync(MOSQUITTO)) broker = await startBroker().catch(() => undefined);
    env.MQTT_HOST = broker?.host ?? 'localhost';
    env.MQTT_PORT = String(broker?.port ?? 1883);
  }
  env.MQTT_PORT ??= '1883';

  let child: ChildProcess | undefined;
  let stopping = false;
  const closeSandbox = async (): Promise<void> => {
    const open = sandbox;
    sandbox = undefined;
    await open?.close().catch(() => undefined);
    await broker?.stop().catch(() => undefined);
    broker = undefined;
  };
  const stop = (why: string): void => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${why}: stopping Node-RED${sandbox ? ' and the Mapillary sandbox' : ''}`);
    const stopped = child ? stopProcess(child, 10_000, 'SIGINT') : Promise.resolve();
    stopped.then(closeSandbox).then(() => process.exit(0), () => process.exit(1));
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => stop(signal));
  process.on('exit', () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  child = startNodeRed({ userDir, settings: settingsFile, cwd: userDir, env, stdio: 'inherit' });
  child.on('exit', (code, signal) => {
    if (stopping) return;
    stopping = true;
    if (code !== 0) console.error(`Node-RED exited with ${code ?? signal}`);
    closeSandbox().then(() => process.exit(code ?? 1));
  });

  try {
    await waitForNodeRed(editor, child, 60_000);
  } catch (error) {
    if (child.exitCode !== null || child.signalCode !== null) return; // the exit handler reports it
    throw error;
  }
  if (deployExamples) {
    const examples = loadExamples(root);
    try {
      await deployFlows(editor, flowsOf(examples));
      console.log(`Deployed the example flows, one tab each: ${examples.map((example) => example.name).join(', ')}`);
    } catch (error) {
      // flows.json was not written: the next start tries again.
      console.error(`Could not deploy the example flows: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  const problems = nodeSetProblems(await packageNodeSets(editor));
  if (problems.length > 0) console.error(`${PACKAGE_NAME} did not load completely:\n  ${problems.join('\n  ')}`);

  const api = sandbox
    ? `talks to the Mapillary sandbox at ${sandbox.origin} (fake data, no account needed)`
    : `talks to the real Mapillary API${env.MAPILLARY_GRAPH_URL ? ` at ${env.MAPILLARY_GRAPH_URL}` : ''} (token from ${env.MAPILLARY_USER_TOKEN?.trim() ? 'MAPILLARY_USER_TOKEN' : 'MAPILLARY_CLIENT_TOKEN'})`;
  console.log(`MQTT for examples 07 and 08 (scale out): ${env.MQTT_HOST}:${env.MQTT_PORT}${broker ? ' (a mosquitto started for this run)' : ''}`);
  console.log(`\n>>> Node-RED with ${PACKAGE_NAME}: open ${editor}/ - it ${api}. Files written by flows go to ${relative(root, userDir)}/. Ctrl+C stops.\n`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
