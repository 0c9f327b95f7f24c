/**
 * A setting or credential whose whole value is `${NAME}` refers to an environment variable (the
 * pattern Node-RED itself substitutes at load). The variable's name, or `undefined`.
 */
export function envName(value: unknown): string | undefined {
  return typeof value === 'string' ? /^\$\{(\S+)\}$/.exec(value.trim())?.[1] : undefined;
}
