// The host-side step before a push to a default target: over the target's own ssh settings, check the
// host's restore root and make a fresh 0700 directory in it (domain/restore-target.ts says why and how).
import { activityFailure } from '../domain/failures.js';
import type { RestorePlan } from '../domain/restore.js';
import { freshTargetCommand, freshTargetRefusedExit } from '../domain/restore-target.js';
import { printable } from '../domain/printable.js';
import { sshArgv } from '../domain/rsync-args.js';
import { startChild } from '../subprocess/runner.js';
import { sshRefusal } from './ssh-failure.js';

const callTimeoutMs = 60_000;

type HostTarget = Extract<RestorePlan['target'], { kind: 'host' }>;

/** Makes `target.fresh` beneath `target.restoreRoot` on the host; throws naming the host and the fix. */
export async function makeFreshTarget(target: HostTarget & { fresh: string }, signal: AbortSignal): Promise<void> {
  const login = { ssh: target.ssh, source: target.remote };
  const [, ...args] = sshArgv(login, freshTargetCommand(target.restoreRoot, target.remote.sudo));
  const run = startChild('ssh', args, {
    input: `${target.fresh}\n`,
    encoding: 'utf8',
    timeoutMs: callTimeoutMs,
    signal,
  });
  const result = await run.result;
  if (signal.aborted) throw signal.reason;
  if (result.exitCode === 0) return;
  const stderr = printable(String(result.stderr ?? '').trim());
  const refusal = sshRefusal(login, stderr);
  if (refusal) throw refusal;
  const where = `${target.host}:${target.dir}`;
  // The command's own line (or the filter's), without the login's noise such as a missing home directory.
  const said = (prefix: string) =>
    String(result.stderr ?? '')
      .split('\n')
      .filter((line) => line.startsWith(prefix))
      .map(printable)
      .join(' ');
  if (result.exitCode === freshTargetRefusedExit)
    throw activityFailure(
      `restore target ${where} was not made, nothing was written: ${said('tidemark: ') || stderr}`,
      'RestoreTargetRefused',
    );
  const filter = said('tidemark-ssh-filter: refused');
  if (filter)
    throw activityFailure(
      `restore target ${where}: the host's ssh filter does not admit the step that makes a fresh target (${filter.slice(0, 160)}...). ` +
        `Install the filter settings \`tidemark host-setup --host ${target.host}\` prints now (its restore-target= line), or pass --target-dir`,
      'RestoreTargetRefused',
    );
  const how = run.timedOut()
    ? `timed out after ${callTimeoutMs / 1000} s`
    : `exited ${result.exitCode ?? 'on a signal'}`;
  throw activityFailure(
    `making restore target ${where} over ssh ${how}: ${stderr || '(no error output)'}`,
    'SshTransient',
  );
}
