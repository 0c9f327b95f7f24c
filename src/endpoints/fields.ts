/** The fields to ask for so that items can be placed, and whether to drop `geometry` again. */
export function withGeometry(fields: readonly string[]): { request: string[]; dropGeometry: boolean } {
  return fields.includes('geometry')
    ? { request: [...fields], dropGeometry: false }
    : { request: [...fields, 'geometry'], dropGeometry: true };
}

/** The `fields` query value. */
export function fieldsQuery(fields: readonly string[]): string {
  return ['id', ...fields.filter((f) => f !== 'id')].join(',');
}
