/**
 * Scaling out over MQTT, for real: Debian's mosquitto on loopback (scripts/ensure-mosquitto.sh
 * installs it when missing), a coordinator Node-RED process running example 07 and three worker
 * processes running example 08, harvesting the sandbox's area of example 07 (the dense centre and
 * the suburbs around it). What the coordinator passes on is exactly the sandbox's ground truth,
 * with no item twice; also when a worker is killed (kill -9) in the middle of the harvest, taking
 * its jobs with it. How much faster three workers are than one is measured by the bench
 * (bench/scale-out.ts), not here.
 */
import { strict as assert } from 'node:assert';
import { world } from '../../sandbox/data';
import { nodeRedEnv, loadExamples } from '../../scripts/node-red-home';
import { type Cluster, startCluster } from '../../scripts/scale-out-cluster';
import { useSandbox } from '../support';

const sorted = (ids: string[]) => [...ids].sort();
const duplicates = (ids: string[]) => {
  const seen = new Set<string>();
  return ids.filter((id) => (seen.has(id) ? true : (seen.add(id), false)));
};

describe('scale out over MQTT: a coordinator and three workers in Node-RED processes, mosquitto', function () {
  this.timeout(180_000);
  // Each answer takes a little while, as over the internet: jobs overlap across the workers.
  const sandbox = useSandbox({ latencyMs: 30 });
  let cluster: Cluster | undefined;
  const bbox = String(loadExamples().find((e) => e.name.startsWith('07'))!.nodes.find((n) => n.id === 'ex7-plan')!.bbox);
  const truth = sorted(world.imagesIn(bbox.split(',').map(Number) as [number, number, number, number]).map((i) => i.id));

  before(async function () {
    this.timeout(120_000);
    cluster = await startCluster({ workers: 3, env: nodeRedEnv(process.env, sandbox), coordinator: { timeout: 4, inFlight: 6 } });
  });
  after(async function () {
    this.timeout(60_000);
    await cluster?.stop();
  });

  it('three workers share the jobs: the items passed on are exactly the ground truth, none twice', async () => {
    const { summary, ids } = await cluster!.harvest();
    assert.equal(summary.ended, 'complete', JSON.stringify(summary));
    assert.ok(summary.jobs >= 12, `${summary.jobs} jobs`);
    assert.deepEqual(duplicates(ids), []);
    assert.deepEqual(sorted(ids), truth);
    const searches = sandbox.requests.filter((r) => r.url.startsWith('/graph/images'));
    assert.ok(searches.length >= summary.jobs);
    for (const member of [cluster!.coordinator, ...cluster!.workers]) assert.ok(!/\[error\]/.test(member.log()), member.log());
  });

  it('a worker killed (kill -9) in the middle: its jobs are sent again, and the union is still exact', async () => {
    const [victim] = cluster!.workers;
    const { summary, ids } = await cluster!.harvest(120_000, async (passed) => {
      while (passed().length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      victim!.child.kill('SIGKILL');
    });
    assert.equal(summary.ended, 'complete', JSON.stringify(summary));
    assert.ok(summary.resent >= 1, `the killed worker's jobs were sent again (${summary.resent})`);
    assert.deepEqual(duplicates(ids), [], 'no item twice, however late a result came');
    assert.deepEqual(sorted(ids), truth);
  });
});
