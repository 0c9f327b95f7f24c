import type { Node, NodeAPI } from './red';

/**
 * A setting or credential whose whole value is `${NAME}` refers to an environment variable (the
 * pattern Node-RED itself substitutes at load). The variable's name, or `undefined`.
 */
export function envName(value: unknown): string | undefined {
  return typeof value === 'string' ? /^\$\{(\S+)\}$/.exec(value.trim())?.[1] : undefined;
}

/**
 * The one way a setting is read: `${NAME}` from the environment as Node-RED sees it for `node`
 * (its flow's and group's env first, then the process's; the process's alone without a node);
 * a `${NAME}` left unresolved, an empty or blank value, are `undefined`; other text is trimmed.
 */
export function resolveSetting(RED: NodeAPI, value: unknown, node?: Node | null): string | undefined {
  if (typeof value !== 'string') return undefined;
  const name = envName(value);
  if (name === undefined) return value.trim() || undefined;
  let resolved: unknown;
  try {
    resolved = RED.util.evaluateNodeProperty(name, 'env', node ?? null, null);
  } catch {
    resolved = process.env[name];
  }
  return typeof resolved === 'string' && resolved.trim() !== '' && envName(resolved) === undefined ? resolved.trim() : undefined;
}
