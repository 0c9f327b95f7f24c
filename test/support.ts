import { type Sandbox, type SandboxOptions, startSandbox } from '../sandbox/server';

/**
 * Mocha hooks every test file that talks to the sandbox shares: the sandbox starts before the
 * file's tests and closes after them; its faults and request log are cleared before each test.
 * Returns a stand-in to use as the sandbox in the file's tests (it forwards to the one running).
 */
export function useSandbox(options: SandboxOptions = {}): Sandbox {
  let running: Sandbox | undefined;
  before(async () => {
    running = await startSandbox(options);
  });
  after(async () => {
    await running?.close();
    running = undefined;
  });
  beforeEach(() => {
    running?.clearFaults();
    running?.resetLog();
  });
  return new Proxy({} as Sandbox, {
    get(_target, key) {
      if (!running) throw new Error(`the sandbox is not running here (sandbox.${String(key)} outside a test?)`);
      return Reflect.get(running, key);
    },
  });
}
