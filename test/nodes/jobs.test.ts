import assert from 'node:assert/strict';
import { world } from '../../sandbox/data';
import { useSandbox } from '../support';
import { allNodes, functionNode, helper, runtimeVersion, sandboxConfig, useNodeRed } from './setup';

const sorted = (ids: string[]) => [...ids].sort();
/** The dense centre (cut into parts) and suburb cells around it. */
const AREA = [13.2, 52.4, 13.45, 52.55] as const;
const truth = sorted(world.imagesIn([...AREA]).map((i) => i.id));
const duplicates = (ids: string[]) => ids.filter((id, i) => ids.indexOf(id) !== i);

describe(`planned harvests: plan, workers, coordinator (mapillary-jobs), in Node-RED ${runtimeVersion}`, function () {
  this.timeout(60_000);
  const sandbox = useSandbox();
  useNodeRed();

  /**
   * planner (plan only) → coordinator → [between] → worker (one result per job) → coordinator;
   * `between` is a function node standing for the broker (it may lose or hold messages).
   */
  async function load(between = 'return msg;', coordinator: Record<string, unknown> = {}, worker: Record<string, unknown> = {}) {
    const config = sandboxConfig(sandbox);
    await helper.load([...allNodes, functionNode], [
      config.node,
      { id: 'planner', type: 'mapillary-images', mapillary: 'cfg', bbox: AREA.join(','), bboxType: 'str', output: 'plan', fields: ['id', 'captured_at'], wires: [['jobs'], ['planned']] },
      { id: 'jobs', type: 'mapillary-jobs', timeout: 2, attempts: 3, inFlight: 4, output: 'page', wires: [['between'], ['items'], ['done']], ...coordinator },
      { id: 'between', type: 'function', func: between, outputs: 1, wires: [['worker']] },
      { id: 'worker', type: 'mapillary-images', mapillary: 'cfg', output: 'result', maxItems: 0, wires: [['jobs'], ['workerDone']], ...worker },
      { id: 'items', type: 'helper' }, { id: 'done', type: 'helper' }, { id: 'planned', type: 'helper' }, { id: 'workerDone', type: 'helper' },
    ], config.credentials);
  }

  async function harvest(): Promise<{ ids: string[]; items: Record<string, any>[]; summary: Record<string, any>; planned: Record<string, any> }> {
    const items: Record<string, any>[] = [];
    helper.getNode('items').on('input', (m: Record<string, any>) => items.push(m));
    const planned = new Promise<Record<string, any>>((resolve) => helper.getNode('planned').on('input', resolve));
    const done = new Promise<Record<string, any>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no summary from the coordinator (${items.length} job results)`)), 40_000);
      helper.getNode('done').on('input', (m: Record<string, any>) => {
        clearTimeout(timer);
        setImmediate(() => resolve(m));
      });
    });
    helper.getNode('planner').receive({ payload: 'go', topic: 'district' });
    const summary = (await done).payload;
    return { ids: items.flatMap((m) => m.payload.map((i: { id: string }) => i.id)), items, summary, planned: (await planned).payload };
  }

  it('plans without a request; jobs harvested by a worker give every item once (whole, whatever its max items); the summary counts them', async () => {
    await load('return msg;', {}, { maxItems: 5 });
    const { ids, items, summary, planned } = await harvest();
    assert.equal(planned.requests, 0);
    assert.equal(planned.jobs, summary.jobs);
    assert.deepEqual(duplicates(ids), []);
    assert.deepEqual(sorted(ids), truth);
    assert.deepEqual([summary.ended, summary.done, summary.failed, summary.resent, summary.items], ['complete', summary.jobs, [], 0, truth.length]);
    assert.equal(items.length, summary.jobs, 'one message per job');
    assert.ok(items.every((m) => m.topic === 'district' && m.mapillary.plan === summary.plan && Array.isArray(m.mapillary.bbox)));
    assert.ok(items[0]!.payload[0].captured_at > 0, 'the planned fields');
  });

  it('a job lost on the way (a worker died with it) is sent again after the timeout: still every item once', async () => {
    // The first send of job 1 never reaches a worker.
    await load(`if (msg.payload.index === 1 && msg.payload.attempt === 1) return null; return msg;`, { timeout: 1 });
    const { ids, summary } = await harvest();
    assert.deepEqual(duplicates(ids), []);
    assert.deepEqual(sorted(ids), truth);
    assert.equal(summary.resent, 1);
    assert.equal(summary.sent, summary.jobs + 1);
  });

  it('a slow worker answering after its job was sent again: the later result is dropped, no item twice', async () => {
    // The first send of job 0 is held 1.5 s (past the 1 s timeout), then delivered all the same.
    await load(`if (msg.payload.index === 0 && msg.payload.attempt === 1) { setTimeout(() => node.send(msg), 1500); return null; } return msg;`, { timeout: 1 });
    const { ids, summary } = await harvest();
    await new Promise((resolve) => setTimeout(resolve, 2500));
    assert.deepEqual(duplicates(ids), []);
    assert.deepEqual(sorted(ids), truth);
    assert.equal(summary.resent, 1);
  });

  it('a worker that fails (the API keeps failing for it) is retried; past the attempts the job fails to Catch with its code', async () => {
    // The first requests are refused (an invalid token, not retried by the client): those jobs fail, and pass when sent again.
    sandbox.inject({ kind: '401-190', path: '/images', times: 3 });
    await load('return msg;', { timeout: 5, attempts: 3 });
    const { ids, summary } = await harvest();
    assert.deepEqual(sorted(ids), truth);
    assert.ok(summary.resent > 0, `${summary.resent} sent again`);

    await helper.unload();
    sandbox.clearFaults();
    sandbox.inject({ kind: '401-190', path: '/images', times: 100_000 });
    await load('return msg;', { timeout: 5, attempts: 2 });
    const errors: unknown[] = [];
    const jobs = helper.getNode('jobs');
    const original = jobs.error.bind(jobs);
    jobs.error = (error: unknown, msg: unknown) => {
      errors.push(error);
      return original(error, msg);
    };
    const failed = await harvest();
    sandbox.clearFaults();
    assert.equal(failed.summary.ended, 'error');
    const last = jobs.status.lastCall.args[0];
    assert.deepEqual([last.fill, last.text], ['red', 'mapillary-jobs.status.failed'], 'the status ends on the failure');
    assert.equal(failed.summary.failed.length, failed.summary.jobs);
    assert.equal(errors.length, failed.summary.jobs);
    assert.ok(failed.summary.failed.every((f: { code: string }) => f.code === 'MAPILLARY_AUTH'), JSON.stringify(failed.summary.failed[0]));
  });

  it('refuses a job whose search was changed on the way, jobs for another kind of node, and results without a job', async () => {
    const config = sandboxConfig(sandbox);
    await helper.load([...allNodes], [
      config.node,
      { id: 'planner', type: 'mapillary-images', mapillary: 'cfg', bbox: AREA.join(','), bboxType: 'str', output: 'plan', wires: [['jobsOut'], []] },
      { id: 'worker', type: 'mapillary-images', mapillary: 'cfg', output: 'page', wires: [['out'], ['done']] },
      { id: 'features', type: 'mapillary-features', mapillary: 'cfg', output: 'page', wires: [['out'], ['done']] },
      { id: 'answer', type: 'mapillary-images', mapillary: 'cfg', bbox: AREA.join(','), output: 'result', wires: [['out'], ['done']] },
      { id: 'jobsOut', type: 'helper' }, { id: 'out', type: 'helper' }, { id: 'done', type: 'helper' },
    ], config.credentials);
    const jobs: Record<string, any>[] = [];
    helper.getNode('jobsOut').on('input', (m: Record<string, any>) => jobs.push(m));
    helper.getNode('planner').receive({ payload: 'go' });
    while (jobs.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    const job = jobs[0]!.payload;
    const code = (id: string, msg: Record<string, unknown>) => new Promise<Record<string, any>>((resolve) => {
      helper.getNode('done').once('input', (m: Record<string, any>) => resolve(m.payload));
      helper.getNode(id).receive(msg);
    });
    let summary = await code('worker', { cell: { ...job, search: { ...job.search, bbox: '13.2,52.4,13.5,52.55' } } });
    assert.deepEqual([summary.ended, summary.error.code], ['error', 'MAPILLARY_INVALID_INPUT']);
    assert.match(summary.error.message, /job-digest/);
    summary = await code('features', { payload: job });
    assert.match(summary.error.message, /job-kind/);
    summary = await code('answer', { payload: 'go' });
    assert.match(summary.error.message, /result-needs-job/);
    // A worker in page mode, given the job as msg.cell: exactly that cell's items.
    const pages: Record<string, any>[] = [];
    helper.getNode('out').on('input', (m: Record<string, any>) => pages.push(m));
    summary = await code('worker', { cell: job });
    assert.equal(summary.ended, 'complete');
    const [w, s, e, n] = job.cells[0].b;
    const inCell = world.imagesIn([w, s, e, n]).filter(({ geometry: { coordinates: [x, y] } }) => (x < e || e === AREA[2]) && (y < n || n === AREA[3]));
    assert.deepEqual(sorted(pages.flatMap((m) => m.payload.map((i: { id: string }) => i.id))), sorted(inCell.map((i) => i.id)));
    assert.ok(pages.every((m) => m.cell.index === job.index), 'the job goes along with the pages');
  });
});
