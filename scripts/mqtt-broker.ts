/**
 * An MQTT broker on loopback for the scale-out examples, their test and their bench: Debian's
 * mosquitto (installed by scripts/ensure-mosquitto.sh when missing, as root), started with a
 * configuration of its own (one listener on 127.0.0.1, anonymous clients, nothing kept on disk).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, PROJECT_ROOT, stopProcess } from './node-red-home';

export const MOSQUITTO = process.env.MOSQUITTO ?? '/usr/sbin/mosquitto';

export interface Broker { host: string; port: number; process: ChildProcess; stop: () => Promise<void> }

/** Runs scripts/ensure-mosquitto.sh (silent when mosquitto is there; apt-get as root otherwise). */
export function ensureMosquitto(): void {
  const result = spawnSync('bash', [join(PROJECT_ROOT, 'scripts', 'ensure-mosquitto.sh')], { encoding: 'utf8', env: { ...process.env, MOSQUITTO } });
  if (result.status !== 0) {
    throw new Error(`scripts/ensure-mosquitto.sh failed (${result.error?.message ?? `exit ${result.status ?? result.signal}`}): ${(result.stderr ?? '').trim().split('\n').slice(-5).join('\n')}`);
  }
}

/** Starts mosquitto on 127.0.0.1 (a free port unless given) and waits until it takes connections. */
export async function startBroker(port?: number): Promise<Broker> {
  const dir = mkdtempSync(join(tmpdir(), 'mapillary-mqtt-'));
  const chosen = port ?? (await freePort());
  const config = join(dir, 'mosquitto.conf');
  writeFileSync(config, [`listener ${chosen} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'max_queued_messages 100000', 'log_dest stderr', 'log_type error', 'log_type warning', ''].join('\n'));
  const child = spawn(MOSQUITTO, ['-c', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.setEncoding('utf8').on('data', (text: string) => { log += text; });
  const stop = async (): Promise<void> => {
    await stopProcess(child, 5000);
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`mosquitto exited (${child.exitCode}): ${log.trim()}`);
    }
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(chosen, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) break;
    if (i > 200) {
      await stop();
      throw new Error(`mosquitto did not listen on 127.0.0.1:${chosen} within 10 s: ${log.trim()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { host: '127.0.0.1', port: chosen, process: child, stop };
}
