import assert from 'node:assert/strict';
import { fieldsQuery, withGeometry } from '../../src/endpoints/fields';
import { parseFields } from '../../src/parse/fields';

describe('fields', () => {
  it('takes lists or comma strings, falls back to defaults, removes duplicates', () => {
    assert.deepEqual(parseFields('id, captured_at ,detections.value,captured_at', ['x']), ['id', 'captured_at', 'detections.value']);
    assert.deepEqual(parseFields(['geometry'], ['x']), ['geometry']);
    assert.deepEqual(parseFields(undefined, ['a', 'b']), ['a', 'b']);
    assert.deepEqual(parseFields(' , ', ['a']), ['a']);
  });

  it('rejects what is not a field name', () => {
    assert.throws(() => parseFields('id,geometry&access_token=x', []), { code: 'MAPILLARY_INVALID_INPUT' });
    assert.throws(() => parseFields([1], []), { code: 'MAPILLARY_INVALID_INPUT' });
    assert.throws(() => parseFields({}, []), { code: 'MAPILLARY_INVALID_INPUT' });
  });

  it('adds geometry when needed to place items, and always sends id once', () => {
    assert.deepEqual(withGeometry(['id', 'captured_at']), { request: ['id', 'captured_at', 'geometry'], dropGeometry: true });
    assert.deepEqual(withGeometry(['geometry']), { request: ['geometry'], dropGeometry: false });
    assert.equal(fieldsQuery(['captured_at', 'id']), 'id,captured_at');
  });
});
