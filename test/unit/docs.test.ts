import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { INPUT_LIMITS, SETTING_RANGES } from '../../src';

/**
 * The README's Limits section and the nodes' help texts say numbers that are defined once, in
 * src/limits.ts. Prose cannot read them, so this test reads the prose: a changed limit fails
 * here until the words say it too.
 */
const root = join(__dirname, '..', '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');
const n = (value: number) => value.toLocaleString('en-US');

describe('the documented limits are the defined ones', () => {
  it('README: every limit and range in the Limits section', () => {
    const readme = read('README.md');
    const section = readme.slice(readme.indexOf('### Limits'), readme.indexOf('### Examples'));
    const { maxItems, maxRequests, timeout, concurrency, requestsPerMinute } = SETTING_RANGES;
    for (const text of [
      `${n(INPUT_LIMITS.areaText)} characters`, `${n(INPUT_LIMITS.areaPositions)} positions`, `| ${n(INPUT_LIMITS.shapePositions)} positions (each cell`, `nested ${INPUT_LIMITS.areaDepth} deep`,
      `${n(INPUT_LIMITS.listItems)} items; ${n(INPUT_LIMITS.listText)} characters as text`, `${n(INPUT_LIMITS.idsPerRequestText)} characters (longer lists`,
      `${n(INPUT_LIMITS.valuesText)} characters joined`, `${INPUT_LIMITS.fields} names of at most ${INPUT_LIMITS.fieldName} characters`,
      `| ${INPUT_LIMITS.shortText} characters |`, `${INPUT_LIMITS.dateText} characters; a real calendar date`,
      `whole number ${maxItems.min} to ${n(maxItems.max)} (0 = no cap)`,
      `whole number ${maxRequests.min} to ${n(maxRequests.max)}; default ${n(maxRequests.default)}`,
      `${timeout.min} to ${timeout.max} seconds (default ${timeout.default})`,
      `${concurrency.min} to ${concurrency.max} cells at once (default ${concurrency.default})`,
      `${requestsPerMinute.min} to ${n(requestsPerMinute.max)} requests per minute (default ${n(requestsPerMinute.default)}`,
    ]) {
      assert.ok(section.includes(text), `README Limits should say "${text}"`);
    }
  });

  it('help texts: the defaults of max items and max requests, and the config ranges', () => {
    const { maxItems, maxRequests, timeout, concurrency, requestsPerMinute } = SETTING_RANGES;
    for (const type of ['mapillary-images', 'mapillary-detections', 'mapillary-features']) {
      const help = read(`nodes/locales/en-US/${type}.html`);
      assert.ok(help.includes(`(${maxItems.default} when neither is set)`), `${type} help: max items default`);
      assert.ok(help.includes(`field is empty (${maxRequests.default} when neither`), `${type} help: max requests default`);
      assert.ok(help.includes(`stopped at max items: ${maxItems.default} items`), `${type} help: the status at max items`);
    }
    const config = read('nodes/locales/en-US/mapillary-config.html');
    for (const text of [
      `${timeout.min} to ${timeout.max}\n            (default ${timeout.default})`,
      `${concurrency.min} to ${concurrency.max} (default ${concurrency.default})`,
      `${requestsPerMinute.min} to ${n(requestsPerMinute.max)} (default ${requestsPerMinute.default};`,
    ]) {
      assert.ok(config.includes(text), `config help should say "${text}"`);
    }
  });
});
