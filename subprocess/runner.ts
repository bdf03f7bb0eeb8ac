// The one place the worker and the CLI start rsync, ssh and zfs send (test/child-runner.test.ts fails on a
// spawn of them anywhere else). Every child gets the same treatment: the cleaned environment (no
// RSYNC_OLD_ARGS, no secrets: environment.ts), rsync always with --secluded-args, its own process group under
// `setpriv --pdeathsig SIGKILL` (a dying worker takes rsync along, and ssh follows on end-of-file), and a
// timeout or an abort stopping the whole group: SIGTERM, then SIGKILL after a grace.
import { execa, type Options, type ResultPromise } from 'execa';
import { rsyncEnvironment } from './environment.js';

/** ssh-keygen, ssh-keyscan: known_hosts look-ups (subprocess/known-hosts.ts) and `tidemark host-key`. */
export type ChildCommand = 'rsync' | 'ssh' | 'ssh-keygen' | 'ssh-keyscan' | 'zfs';

const killGraceMs = 3_000;

/** What the caller may choose; environment, process group and cleanup are the runner's. */
export type ChildOptions = Pick<
  Options,
  'input' | 'stdin' | 'stdout' | 'stderr' | 'stdio' | 'buffer' | 'encoding' | 'maxBuffer' | 'stripFinalNewline'
> & {
  /** Stops the group after this long (see `timedOut`). */
  timeoutMs?: number;
  /** Stops the group when aborted (an activity's cancellation). */
  signal?: AbortSignal;
};

export interface Child {
  /** The running child (its streams are there for the caller to read). */
  process: ResultPromise;
  /** Settles when it has ended (never rejects: the exit code and signal tell), timers and listeners gone. */
  result: ReturnType<typeof settle>;
  /** Whether `timeoutMs` passed and the group was stopped. */
  timedOut(): boolean;
  /** Stops the whole group now (SIGTERM, SIGKILL after a grace). */
  stop(): void;
}

/** rsync is always given --secluded-args: paths and options travel inside its protocol, never through the
 * host's shell, whatever RSYNC_OLD_ARGS says (an explicit flag wins over the variable). */
export function childArgv(command: ChildCommand, args: readonly string[]): string[] {
  if (command !== 'rsync' || args.includes('--secluded-args') || args.includes('--version')) return [...args];
  return ['--secluded-args', ...args];
}

export function startChild(command: ChildCommand, args: readonly string[], options: ChildOptions = {}): Child {
  const { timeoutMs, signal, ...io } = options;
  const child = execa('setpriv', ['--pdeathsig', 'SIGKILL', '--', command, ...childArgv(command, args)], {
    ...(io.stdio === undefined && io.input === undefined && io.stdin === undefined ? { stdin: 'ignore' } : {}),
    ...io,
    detached: true,
    cleanup: false,
    reject: false,
    env: rsyncEnvironment(),
    extendEnv: false,
  } as Options) as ResultPromise;
  let timedOut = false;
  const stop = () => stopGroup(child.pid);
  const deadline =
    timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          stop();
        }, timeoutMs);
  signal?.addEventListener('abort', stop, { once: true });
  if (signal?.aborted) stop();
  const result = settle(child).finally(() => {
    clearTimeout(deadline);
    signal?.removeEventListener('abort', stop);
  });
  return { process: child, result, timedOut: () => timedOut, stop };
}

async function settle(child: ResultPromise) {
  return await child;
}

/** SIGTERM to the whole group now, SIGKILL after a short grace: rsync gets to close its files first. */
export function stopGroup(pid: number | undefined): void {
  signalGroup(pid, 'SIGTERM');
  setTimeout(() => signalGroup(pid, 'SIGKILL'), killGraceMs).unref();
}

function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}
