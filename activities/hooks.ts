// Hook scripts: the host's (SOWN's /etc/backup-scripts/, run over ssh with run-parts before rsync) and
// the backup server's own before/after scripts. A script failing is a result the workflow reports, never
// retried; only ssh connection trouble is retried.
import { randomBytes } from 'node:crypto';
import { homedir } from 'node:os';
import { Context } from '@temporalio/activity';
import { activityFailure } from '../domain/failures.js';
import { execa } from 'execa';
import type { BackupPlan } from '../domain/backup.js';
import { printable } from '../domain/printable.js';
import { hookCommand, parseHookOutput, type HookResult, type ServerHookResult } from '../domain/host-steps.js';
import { runOverSsh, throwOnSshFailure } from './ssh-run.js';

/** Beyond the host-side `timeout`, how long the backup server waits before killing ssh itself. */
const localGraceMs = 60_000;
const tailLines = 10;
/** A line longer than this is cut in the history (a script printing one huge line stays small there). */
const tailLineChars = 500;

/** The whole environment of a backup-server hook: a fixed PATH and locale, HOME and the run's TIDEMARK_*
 * facts. Nothing of the worker's own environment, which can hold tokens that the script could print
 * into the run's history. */
export function serverHookEnvironment(runFacts: Record<string, string>, home = homedir()): Record<string, string> {
  const facts = Object.fromEntries(Object.entries(runFacts).filter(([name]) => name.startsWith('TIDEMARK_')));
  return { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8', HOME: home, ...facts };
}

/** Runs the host's hook directory with run-parts; resolves with passed/failed/timeout/absent. */
export async function runHostHooks(plan: BackupPlan): Promise<HookResult> {
  const steps = plan.hostSteps;
  if (!steps)
    throw activityFailure('the plan has no host settings (planBackup is older than this worker)', 'HookSetupFailed');
  const marker = randomBytes(12).toString('hex');
  const { dir, timeoutMs } = steps.hooks;
  const started = Date.now();
  const result = await runOverSsh(plan, hookCommand(dir, timeoutMs / 1000, plan.source.sudo, marker), {
    timeoutMs: timeoutMs + localGraceMs,
    details: () => ({ step: 'hooks', dir, elapsedMs: Date.now() - started }),
  });
  const durationMs = Date.now() - started;
  if (result.timedOut) {
    return {
      status: 'timeout',
      failed: [],
      outputTail: tail(`${result.stdout}\n${result.stderr}`),
      exitCode: -1,
      durationMs,
    };
  }
  const parsed = parseHookOutput(result, marker);
  if (!parsed) {
    // The command did not get as far as reporting: ssh itself failed (255), or the host's shell did.
    throwOnSshFailure(plan, `hook scripts in ${dir}`, result);
    return {
      status: 'failed',
      failed: [`the hook command exited ${result.exitCode}`],
      outputTail: tail(result.stderr),
      exitCode: result.exitCode,
      durationMs,
    };
  }
  return { ...parsed, durationMs };
}

/** Runs one backup-server script (`servers.<name>.hooks.before/after`) with only the run's facts and a
 * fixed PATH in its environment (serverHookEnvironment). */
export async function runServerHook(
  script: string,
  env: Record<string, string>,
  timeoutMs: number,
): Promise<ServerHookResult> {
  const context = Context.current();
  const heartbeat = setInterval(() => context.heartbeat({ step: 'server hook', script }), 1_000);
  try {
    const result = await execa(script, [], {
      reject: false,
      all: true,
      stdin: 'ignore',
      env: serverHookEnvironment(env),
      extendEnv: false,
      timeout: timeoutMs,
      cancelSignal: context.cancellationSignal,
      forceKillAfterDelay: 3_000,
      encoding: 'utf8',
      maxBuffer: 1024 * 1024,
    });
    if (context.cancellationSignal.aborted) throw context.cancellationSignal.reason;
    const output = tail(String(result.all ?? ''));
    if (result.failed && result.exitCode === undefined) {
      const why = result.timedOut
        ? `timed out after ${Math.round(timeoutMs / 1000)}s`
        : result.code === 'ENOENT'
          ? 'not found'
          : (result.shortMessage ?? 'could not run');
      return { script, ok: false, exitCode: null, outputTail: [why, ...output].slice(-tailLines) };
    }
    return { script, ok: result.exitCode === 0, exitCode: result.exitCode ?? null, outputTail: output };
  } finally {
    clearInterval(heartbeat);
  }
}

function tail(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trimEnd())
    .filter((line) => line !== '')
    .slice(-tailLines)
    .map(printable)
    .map((line) =>
      line.length > tailLineChars ? `${line.slice(0, tailLineChars)}… (${line.length} characters)` : line,
    );
}
