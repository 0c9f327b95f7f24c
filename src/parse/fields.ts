import { INPUT_LIMITS } from '../limits';
import { invalid, limitText, listItems } from './values';

const FIELD = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/;

/**
 * The `fields=` selection of a v4 call: a list or a comma-separated string, `defaults` when
 * empty; `id` is always part of the answer, so it is not sent.
 */
export function parseFields(input: unknown, defaults: readonly string[], what = 'fields'): string[] {
  const list = input == null ? [] : listItems(input, what, { text: INPUT_LIMITS.shortText * INPUT_LIMITS.fields, items: INPUT_LIMITS.fields });
  if (!list) throw invalid(what, 'a list of field names or a comma-separated string', input);
  const out: string[] = [];
  for (const raw of list) {
    if (typeof raw !== 'string') throw invalid(what, 'field names as text', raw);
    const field = limitText(raw, what, INPUT_LIMITS.fieldName).trim();
    if (field === '') continue;
    if (!FIELD.test(field)) throw invalid(what, 'field names (letters, digits, "_", nested with ".")', field);
    if (!out.includes(field)) out.push(field);
  }
  return out.length > 0 ? out : [...defaults];
}
