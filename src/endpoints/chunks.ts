/** Comma-joined groups of `values`, each at most `maxChars` long (a value longer than that is a group of its own). */
export function chunkList(values: readonly string[], maxChars: number): string[] {
  const groups: string[] = [];
  let current = '';
  for (const value of values) {
    if (current !== '' && current.length + 1 + value.length > maxChars) {
      groups.push(current);
      current = '';
    }
    current = current === '' ? value : `${current},${value}`;
  }
  if (current !== '') groups.push(current);
  return groups;
}
