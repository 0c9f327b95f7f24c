import { INPUT_LIMITS } from '../limits';
import { InvalidInputError } from '../errors';
import { limitText, listItems } from './values';

/** A class of object (detection value, map feature value, v3 layer), wildcards allowed: regulatory--*. */
export const CLASS = /^[a-z0-9*][a-z0-9_*-]*$/i;

/**
 * A list of values that goes into one query parameter (object values, v3 layers and keys): an
 * array or comma-separated text of strings matching `pattern` (and in `allowed`, when given),
 * joined with commas. The whole is sent in one URL, so it must stay within the documented
 * length; `undefined` when empty.
 */
export function parseValueList(input: unknown, what: string, pattern: RegExp, expected: string, allowed?: readonly string[]): string | undefined {
  if (input == null || input === '') return undefined;
  const items = listItems(input, what, { text: INPUT_LIMITS.valuesText });
  if (!items || items.some((v) => typeof v !== 'string')) throw new InvalidInputError(`${what}: expected a list or a comma-separated string`);
  const values = (items as string[]).map((v) => limitText(v, what).trim()).filter(Boolean);
  for (const v of values) {
    if (!pattern.test(v) || (allowed && !allowed.includes(v))) {
      throw new InvalidInputError(`${what}: "${v.slice(0, 60)}" is not ${allowed ? `one of ${allowed.join(', ')}` : expected}`);
    }
  }
  const joined = [...new Set(values)].join(',');
  limitText(joined, what, INPUT_LIMITS.valuesText);
  return joined || undefined;
}
