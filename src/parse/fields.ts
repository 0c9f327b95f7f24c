import { INPUT_LIMITS } from '../limits';
import { InvalidInputError } from '../errors';
import { limitText, listItems } from './values';

const FIELD = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/;

/**
 * The `fields=` selection of a v4 call: a list or a comma-separated string, `defaults` when
 * empty; `id` is always part of the answer, so it is not sent.
 */
export function parseFields(input: unknown, defaults: readonly string[], what = 'fields'): string[] {
  const list = input == null ? [] : listItems(input, what, { text: INPUT_LIMITS.shortText * INPUT_LIMITS.fields, items: INPUT_LIMITS.fields });
  if (!list) throw new InvalidInputError(`${what}: expected a list of field names or a comma-separated string`);
  const out: string[] = [];
  for (const raw of list) {
    if (typeof raw !== 'string') throw new InvalidInputError(`${what}: field names must be strings`);
    const field = limitText(raw, what, INPUT_LIMITS.fieldName).trim();
    if (field === '') continue;
    if (!FIELD.test(field)) throw new InvalidInputError(`${what}: "${field.slice(0, 40)}" is not a field name (letters, digits, "_", nested with ".")`);
    if (!out.includes(field)) out.push(field);
  }
  return out.length > 0 ? out : [...defaults];
}
