/**
 * The small part of Node-RED's runtime API these nodes use, typed here so the package needs no
 * type package for Node-RED (whose types lag behind the runtime).
 */

export interface NodeMessage {
  _msgid?: string;
  payload?: unknown;
  topic?: string;
  parts?: { id: string; index: number; count?: number; type: string; ch?: string; len?: number };
  [key: string]: unknown;
}

export type StatusFill = 'red' | 'green' | 'yellow' | 'blue' | 'grey';
export interface NodeStatus { fill?: StatusFill; shape?: 'ring' | 'dot'; text?: string }

export type Send = (msg: NodeMessage | (NodeMessage | NodeMessage[] | null)[]) => void;
export type Done = (err?: Error) => void;

export interface Node {
  id: string;
  type: string;
  name?: string;
  z?: string;
  credentials: Record<string, string | undefined>;
  on(event: 'input', listener: (msg: NodeMessage, send: Send, done: Done) => void): void;
  on(event: 'close', listener: (removed: boolean, done: () => void) => void): void;
  send(msg: NodeMessage | (NodeMessage | NodeMessage[] | null)[]): void;
  status(status: NodeStatus | Record<string, never>): void;
  error(error: unknown, msg?: NodeMessage): void;
  warn(message: unknown): void;
  log(message: unknown): void;
}

export interface NodeDef {
  id: string;
  type: string;
  name?: string;
  z?: string;
  [key: string]: unknown;
}

/** Express-style request and response, as far as the admin routes use them. */
export interface Request { body?: Record<string, unknown>; query: Record<string, unknown> }
export interface Response {
  status(code: number): Response;
  json(body: unknown): void;
  set(field: string, value: string): Response;
  send(body: string): void;
}
export type Handler = (req: Request, res: Response, next: () => void) => void;

export interface NodeAPI {
  nodes: {
    createNode(node: object, def: NodeDef): void;
    registerType<N extends Node, D extends NodeDef>(
      type: string, constructor: (this: N, def: D) => void,
      options?: { credentials?: Record<string, { type: 'text' | 'password' }>; settings?: Record<string, { value: unknown; exportable?: boolean }> },
    ): void;
    getNode(id: string): unknown;
    getCredentials(id: string): Record<string, string | undefined> | undefined;
    addCredentials(id: string, credentials: Record<string, string | undefined>): Promise<void> | void;
  };
  util: {
    cloneMessage<T>(msg: T): T;
    evaluateNodeProperty(value: unknown, type: string, node: Node | null, msg: NodeMessage | null): unknown;
  };
  _: (key: string, substitutions?: Record<string, unknown>) => string;
  httpAdmin: {
    get(path: string, ...handlers: Handler[]): void;
    post(path: string, ...handlers: Handler[]): void;
  };
  auth: { needsPermission(permission: string): Handler };
  settings: { userDir?: string; credentialSecret?: string | false; [key: string]: unknown };
  log: { warn(message: unknown): void; info(message: unknown): void; error(message: unknown): void };
  /** Runtime events ("flows:started" after each start or deploy). */
  events?: { on(event: string, listener: (...args: unknown[]) => void): void };
}
