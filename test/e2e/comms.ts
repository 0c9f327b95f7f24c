/**
 * The editor's comms websocket (ws://host:port/comms), as the debug sidebar sees it: Node-RED
 * sends JSON arrays of `{ topic, data }` (debug messages, node status, notifications such as
 * `notification/runtime-deploy` once a deploy has started its flows).
 *
 * The client is the `ws` package that Node-RED itself depends on (resolved from the project; no
 * dependency of ours), or the global WebSocket of newer Node versions.
 */

/** What is used of a WebSocket; `ws` and the WHATWG WebSocket both have it. */
interface Socket {
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  onclose: ((event: unknown) => void) | null;
  readonly readyState: number;
  send(text: string): void;
  close(): void;
}
type SocketClass = new (url: string) => Socket;

function socketClass(): SocketClass {
  try {
    require.resolve('ws');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('ws') as SocketClass;
  } catch {
    const global = (globalThis as { WebSocket?: SocketClass }).WebSocket;
    if (global) return global;
    throw new Error('no WebSocket client: the ws package (a dependency of node-red) is not resolvable and this Node has no global WebSocket');
  }
}

export interface CommsMessage {
  topic: string;
  data: unknown;
}

/** A debug node's message: `msg` is its output as text (JSON for objects and arrays). */
export interface DebugMessage {
  id: string;
  z?: string;
  name?: string;
  topic?: string;
  property?: string;
  msg: string;
  format?: string;
  /** Set when this is a node's log entry (warn 30, error 20), not a debug node's output. */
  level?: number;
}

export class Comms {
  /** Everything received since the last clear(), oldest first. */
  readonly messages: CommsMessage[] = [];
  private listeners = new Set<() => void>();
  private closed?: Promise<void>;

  /** Also receive the messages of `topic` (the image preview node publishes on "image", say). */
  subscribe(topic: string): void {
    this.socket.send(JSON.stringify({ subscribe: topic }));
  }

  private constructor(private readonly socket: Socket) {
    socket.onmessage = (event) => {
      let batch: unknown;
      try {
        batch = JSON.parse(String(event.data));
      } catch {
        return;
      }
      for (const entry of Array.isArray(batch) ? batch : [batch]) {
        if (entry && typeof entry === 'object' && typeof (entry as CommsMessage).topic === 'string') this.messages.push(entry as CommsMessage);
      }
      for (const listener of [...this.listeners]) listener();
    };
    this.closed = new Promise((resolve) => {
      socket.onclose = () => resolve();
    });
  }

  /**
   * Connects to `<editorUrl>/comms` and subscribes to the debug messages. With adminAuth, pass
   * an access token (from POST <editorUrl>/auth/token): it is sent first, as the editor does, and
   * the runtime's `{"auth":"ok"}` awaited before subscribing.
   */
  static open(editorUrl: string, timeoutMs = 10_000, accessToken?: string): Promise<Comms> {
    const Socket = socketClass();
    const socket = new Socket(`${editorUrl.replace(/^http/, 'ws')}/comms`);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.close();
        reject(new Error(`comms websocket: not ${accessToken ? 'authenticated' : 'open'} within ${timeoutMs} ms`));
      }, timeoutMs);
      const ready = (): void => {
        clearTimeout(timer);
        socket.onerror = null;
        socket.onmessage = null;
        socket.send(JSON.stringify({ subscribe: 'debug' }));
        resolve(new Comms(socket));
      };
      socket.onerror = (event) => {
        clearTimeout(timer);
        reject(new Error(`comms websocket: ${String((event as { message?: string }).message ?? 'connection failed')}`));
      };
      socket.onopen = () => {
        if (!accessToken) return ready();
        socket.onmessage = (event) => {
          let answer: { auth?: string } | undefined;
          try {
            answer = JSON.parse(String(event.data)) as { auth?: string };
          } catch {
            return;
          }
          if (answer?.auth === 'ok') ready();
          else if (answer?.auth === 'fail') {
            clearTimeout(timer);
            socket.close();
            reject(new Error('comms websocket: the runtime refused the access token (auth: fail)'));
          }
        };
        socket.send(JSON.stringify({ auth: accessToken }));
      };
    });
  }

  clear(): void {
    this.messages.length = 0;
  }

  /** Debug messages (outputs of debug nodes and node log entries), optionally of one node. */
  debug(nodeId?: string): DebugMessage[] {
    return this.messages.filter((m) => m.topic === 'debug').map((m) => m.data as DebugMessage)
      .filter((d) => nodeId === undefined || d.id === nodeId);
  }

  /** The outputs of debug node `nodeId`, parsed (JSON for objects and arrays, the text otherwise). */
  outputs(nodeId: string): unknown[] {
    return this.debug(nodeId).filter((d) => d.level === undefined).map(parseDebug);
  }

  /** The statuses node `nodeId` showed (`{}` when cleared). */
  statuses(nodeId: string): Array<{ text?: string; fill?: string; shape?: string }> {
    return this.messages.filter((m) => m.topic === `status/${nodeId}`).map((m) => m.data as { text?: string; fill?: string; shape?: string });
  }

  /** Resolves once `ready()` is true (checked now and on every batch received); rejects after `timeoutMs`. */
  waitFor(ready: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
    if (ready()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (error?: Error): void => {
        clearTimeout(timer);
        this.listeners.delete(check);
        if (error) reject(error);
        else resolve();
      };
      const check = (): void => {
        if (ready()) done();
      };
      const timer = setTimeout(() => done(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
      this.listeners.add(check);
    });
  }

  /** Waits until `count` outputs of debug node `nodeId` arrived. */
  async waitForOutputs(nodeId: string, count = 1, timeoutMs = 30_000): Promise<unknown[]> {
    await this.waitFor(() => this.outputs(nodeId).length >= count, `${count} message(s) at debug node ${nodeId}`, timeoutMs);
    return this.outputs(nodeId);
  }

  async close(): Promise<void> {
    if (this.socket.readyState <= 1) this.socket.close();
    await Promise.race([this.closed, new Promise((resolve) => setTimeout(resolve, 2000))]);
  }
}

/** A debug message's output: objects and arrays arrive as JSON text. */
export function parseDebug(debug: DebugMessage): unknown {
  if (typeof debug.msg !== 'string') return debug.msg;
  if (debug.format && /^(Object|array\[\d+\]|number|boolean|null)/.test(debug.format)) {
    try {
      return JSON.parse(debug.msg);
    } catch {
      return debug.msg;
    }
  }
  return debug.msg;
}
