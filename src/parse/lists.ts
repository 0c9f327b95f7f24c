import { INPUT_LIMITS } from '../limits';
import { invalid, limitText, listItems } from './values';

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
  if (!items || items.some((v) => typeof v !== 'string')) throw invalid(what, 'a list of text or a comma-separated string', input);
  const values = (items as string[]).map((v) => limitText(v, what).trim()).filter(Boolean);
  for (const v of values) {
    if (!pattern.test(v) || (allowed && !allowed.includes(v))) throw invalid(what, allowed ? `one of ${allowed.join(', ')}` : expected, v);
  }
  const joined = [...new Set(values)].join(',');
  limitText(joined, what, INPUT_LIMITS.valuesText);
  return joined || undefined;
}
