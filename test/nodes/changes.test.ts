import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { AREAS, World } from '../../sandbox/data';
import { useSandbox } from '../support';
import { allNodes, collect, helper, runtimeVersion, sandboxConfig, splitJoinNodes, switchNode, useNodeRed, useUserDir } from './setup';

const sorted = (ids: string[]) => [...ids].sort();
const AREA = AREAS.suburb;

describe(`only changes, in Node-RED ${runtimeVersion}`, function () {
  this.timeout(60_000);
  // A world of its own: the tests change it.
  const world = new World();
  const sandbox = useSandbox({ world });
  useNodeRed();
  const userDir = useUserDir('mapillary-changes-');
  const truth = () => sorted(world.imagesIn([...AREA]).map((i) => i.id));
  let nextId = 999_000_000_000_001;

  async function load(node: Record<string, unknown> = {}, extra: unknown[] = []) {
    const config = sandboxConfig(sandbox);
    await helper.load([...allNodes, splitJoinNodes, switchNode], [
      config.node,
      { id: 'n1', type: 'mapillary-images', mapillary: 'cfg', bbox: AREA.join(','), bboxType: 'str', output: 'page', format: 'json', maxItems: 0, changes: true, wires: [['out'], ['done']], ...node },
      { id: 'out', type: 'helper' },
      { id: 'done', type: 'helper' },
      ...extra,
    ], config.credentials);
  }

  async function harvest(msg: Record<string, unknown> = { payload: 'go' }) {
    const run = collect();
    helper.getNode('n1').receive(msg);
    const { out, done } = await run;
    const of = (change: string) => out.filter((m) => m.mapillary.change === change);
    const ids = (msgs: Record<string, any>[]) => msgs.flatMap((m) => (Array.isArray(m.payload) ? m.payload : [m.payload]).map((i: string | { id: string }) => (typeof i === 'string' ? i : i.id)));
    assert.equal(out.length, of('added').length + of('removed').length, 'every message says what changed');
    return { added: ids(of('added')), removed: ids(of('removed')), out, done: done.payload };
  }

  /** Removes `remove` images of the area and adds `add` new ones (copies of others, moved a little). */
  function changeWorld(remove: number, add: number): { removed: string[]; added: string[] } {
    const inArea = world.imagesIn([...AREA]);
    const removed = inArea.filter((_, i) => i % 97 === 5).slice(0, remove).map((i) => i.id);
    const added = Array.from({ length: add }, (_, i) => {
      const like = inArea[i * 31]!;
      return { like, id: String(nextId++), at: [like.geometry.coordinates[0] + 1e-5, like.geometry.coordinates[1]] as [number, number] };
    });
    world.change({ removeImages: removed, addImages: added });
    return { removed: sorted(removed), added: sorted(added.map((a) => a.id)) };
  }

  it('the first complete run sends everything as added; the next ones only what appeared and the ids of what disappeared', async () => {
    await load();
    const first = await harvest();
    assert.deepEqual(sorted(first.added), truth());
    assert.deepEqual(first.removed, []);
    assert.deepEqual([first.done.added, first.done.removed, first.done.unchanged], [truth().length, 0, 0]);
    const state = readdirSync(join(userDir(), 'mapillary', 'changes', 'n1'));
    assert.equal(state.length, 1);
    assert.equal(statSync(join(userDir(), 'mapillary', 'changes', 'n1', state[0]!)).size, 8 + 8 * truth().length, '8 bytes per item');

    const same = await harvest();
    assert.deepEqual([same.added, same.removed, same.out.length], [[], [], 0], 'nothing changed: nothing sent');
    assert.deepEqual([same.done.added, same.done.removed, same.done.unchanged], [0, 0, truth().length]);

    const change = changeWorld(4, 3);
    const next = await harvest();
    assert.deepEqual(sorted(next.added), change.added);
    assert.deepEqual(sorted(next.removed), change.removed);
    assert.deepEqual([next.done.added, next.done.removed, next.done.unchanged], [3, 4, truth().length - 3]);
    assert.ok(next.out.filter((m) => m.mapillary.change === 'removed').every((m) => m.payload.every((id: unknown) => typeof id === 'string')), 'removed: ids');
  });

  it('a run that fails or stops at max items reports no removals and keeps the last complete state', async () => {
    await load();
    await harvest();
    const change = changeWorld(2, 2);
    await helper.unload();
    await load({ maxItems: 5 });
    const capped = await harvest();
    assert.equal(capped.done.ended, 'max-items');
    assert.deepEqual(capped.removed, []);
    assert.equal(capped.done.removed, undefined);

    await helper.unload();
    await load({ maxRequests: 3 });
    const failed = await harvest();
    assert.equal(failed.done.ended, 'error');
    assert.deepEqual(failed.removed, []);

    await helper.unload();
    await load();
    const next = await harvest();
    assert.deepEqual(sorted(next.added), change.added, 'still against the last complete run');
    assert.deepEqual(sorted(next.removed), change.removed);
  });

  it('item mode: added and removed are two sets, each rebuilt by a Join in automatic mode', async () => {
    const joinNode = (id: string, to: string) => ({ id, type: 'join', mode: 'auto', build: 'array', property: 'payload', propertyType: 'msg', timeout: '', count: '', wires: [[to]] });
    await load({ output: 'item', wires: [['out', 'split'], ['done']] }, [
      { id: 'split', type: 'switch', property: 'mapillary.change', propertyType: 'msg', rules: [{ t: 'eq', v: 'added', vt: 'str' }, { t: 'eq', v: 'removed', vt: 'str' }], checkall: 'true', repair: false, outputs: 2, wires: [['ja'], ['jr']] },
      joinNode('ja', 'addedSet'), joinNode('jr', 'removedSet'), { id: 'addedSet', type: 'helper' }, { id: 'removedSet', type: 'helper' },
    ]);
    const firstSet = new Promise<Record<string, any>>((resolve) => helper.getNode('addedSet').on('input', resolve));
    const first = await harvest();
    assert.equal(first.done.ended, 'complete');
    assert.equal((await firstSet).payload.length, first.added.length, 'the first run: one set of everything');
    const change = changeWorld(3, 2);
    const sets = {
      added: new Promise<Record<string, any>>((resolve) => helper.getNode('addedSet').on('input', resolve)),
      removed: new Promise<Record<string, any>>((resolve) => helper.getNode('removedSet').on('input', resolve)),
    };
    const next = await harvest();
    assert.deepEqual(sorted(next.added), change.added);
    assert.deepEqual(sorted((await sets.added).payload.map((i: { id: string }) => i.id)), change.added);
    assert.deepEqual(sorted((await sets.removed).payload), change.removed);
  });

  it('with Resume on: a run stopped midway and resumed still reports exactly what changed', async () => {
    await load({ resume: true });
    await harvest();
    const change = changeWorld(5, 2);
    // Stopped after two pages, then resumed: what the first part found must not come out as removed.
    const first: Record<string, any>[] = [];
    const enough = new Promise<void>((resolve) => helper.getNode('out').on('input', (m) => {
      first.push(m);
      resolve();
    }));
    // Every page holds added images only when they are new: make the first pages slow so the stop comes early.
    sandbox.inject({ kind: 'slow', path: '/images', delayMs: 30, times: 100 });
    helper.getNode('n1').receive({ payload: 'go' });
    await Promise.race([enough, new Promise((r) => setTimeout(r, 400))]);
    await helper.unload();
    sandbox.clearFaults();
    assert.ok(existsSync(join(userDir(), 'mapillary', 'resume', 'n1')), 'a resume record');
    await load({ resume: true });
    const rest = await harvest();
    assert.ok(rest.done.resumed && rest.done.resumed.cells > 0, `resumed: ${JSON.stringify(rest.done.resumed)}`);
    const added = sorted([...new Set([...first.flatMap((m) => m.payload.map((i: { id: string }) => i.id)), ...rest.added])]);
    assert.deepEqual(added, change.added);
    assert.deepEqual(sorted(rest.removed), change.removed);
    assert.deepEqual([rest.done.added, rest.done.removed], [2, 5]);
  });

  it('refuses searches without an area (MAPILLARY_INVALID_INPUT)', async () => {
    await load({ bbox: '', creatorUsername: 'mapper_anna' });
    const run = collect();
    helper.getNode('n1').receive({ payload: 'go' });
    const { done } = await run;
    assert.equal(done.payload.ended, 'error');
    assert.equal(done.payload.error.code, 'MAPILLARY_INVALID_INPUT');
    assert.match(done.payload.error.message, /changes-area-only/);
  });
});
