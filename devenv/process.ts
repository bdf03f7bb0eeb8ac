// Small helpers for the embedded environment's daemons: waiting, pid files (free ports: worker/free-port.ts).
import { setTimeout as sleep } from 'node:timers/promises';

/** Polls `ready` until it returns true or `timeoutMs` passes; the error names `what`. */
export async function waitFor(what: string, ready: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await ready().catch(() => false)) return;
    await sleep(200);
  }
  throw new Error(`${what} not ready after ${timeoutMs} ms`);
}

/** True when a process with this pid exists. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
