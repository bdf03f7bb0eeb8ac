// A server's transfer slots (servers.<name>.concurrency), held across every worker started with that server's
// name, not per process: each slot is a lock file under /run/lock/tidemark/<server>/, locked with flock(2) on a
// descriptor this worker keeps open while its copy runs. The kernel drops the lock when the descriptor is
// closed or the worker dies (even SIGKILL), so a crashed worker never leaves a slot taken.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { constants } from 'node:fs';
import { lstat, mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Context } from '@temporalio/activity';
import { keptInventory } from '../inventory/kept-inventory.js';
import { serverEntry } from '../inventory/resolve.js';
import type { WorkerScope } from './worker-policy.js';

/** Where the slots' lock files live (TIDEMARK_LOCK_DIR overrides; /run/lock is cleared at boot). */
export function slotDirectory(server: string): string {
  return join(process.env.TIDEMARK_LOCK_DIR ?? '/run/lock/tidemark', server);
}

/** /run/lock is writable by every user: the slots' folders must be this worker's own, not writable by others,
 * so that no one else can hold or replace a slot. */
async function checkOwnDirectory(path: string): Promise<void> {
  const stat = await lstat(path);
  const uid = process.getuid?.();
  if (!stat.isDirectory() || (uid !== undefined && stat.uid !== uid) || (stat.mode & 0o022) !== 0)
    throw new Error(
      `${path} must be a directory owned by this worker's user and writable by no one else (transfer slots): remove it, or set TIDEMARK_LOCK_DIR`,
    );
}

/** How often a copy waiting for a slot tries again. */
const retryEveryMs = 1_000;

/** Locks `file` if no one holds it: the open handle keeps the lock; undefined when it is taken. */
async function tryLock(file: string): Promise<FileHandle | undefined> {
  // O_NOFOLLOW: a symlink planted in place of a slot is refused, never followed.
  const handle = await open(
    file,
    constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW,
    0o600,
  );
  // flock(1) locks the descriptor it is given and exits: the lock stays with the open file, held here.
  // (node's spawn: execa does not pass a descriptor as the child's fd 3)
  const child = spawn('flock', ['--nonblock', '--exclusive', '3'], { stdio: ['ignore', 'ignore', 'pipe', handle.fd] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await Promise.race([
    once(child, 'exit'),
    once(child, 'error').then(([error]) => Promise.reject(error as Error)),
  ])) as [number | null];
  if (code === 0) return handle;
  await handle.close();
  if (code !== 1) throw new Error(`flock ${file} exited ${code}: ${stderr.trim()}`);
  return undefined;
}

/** Takes one of the server's `slots` (waiting while all are held by this or another worker); resolves to its
 * release. `waiting` is told, every retry, while none is free. */
export async function takeTransferSlot(
  server: string,
  slots: number,
  signal: AbortSignal,
  waiting: (message: string) => void,
): Promise<() => Promise<void>> {
  const directory = slotDirectory(server);
  await mkdir(directory, { recursive: true, mode: 0o700 });
  await checkOwnDirectory(dirname(directory));
  await checkOwnDirectory(directory);
  for (;;) {
    for (let index = 0; index < slots; index++) {
      const handle = await tryLock(join(directory, `slot-${index}`));
      if (handle) return () => handle.close();
    }
    waiting(
      `all ${slots} transfer slots of ${server} are in use (servers.${server}.concurrency counts every worker of the server): waiting`,
    );
    await sleep(retryEveryMs, undefined, { signal });
  }
}

/** Runs an activity's copy in one of the server's slots; heartbeats while it waits, stops waiting on cancel. */
export async function inTransferSlot<T>(scope: WorkerScope, work: () => Promise<T>): Promise<T> {
  const context = Context.current();
  const { inventory } = await keptInventory(scope.inventoryPath).read();
  const slots = serverEntry(inventory, scope.server)?.concurrency ?? 2;
  let release: () => Promise<void>;
  try {
    release = await takeTransferSlot(scope.server, slots, context.cancellationSignal, () =>
      context.heartbeat({ bytes: 0, percent: 0, filesTransferred: 0, rate: '' }),
    );
  } catch (error) {
    if (context.cancellationSignal.aborted) throw context.cancellationSignal.reason;
    throw error;
  }
  try {
    return await work();
  } finally {
    await release();
  }
}
