// Step 3, on the backup server's transfer queue: rsync over ssh, with heartbeats, cancellation and
// exit codes turned into retry decisions.
import { ApplicationFailure, Context } from '@temporalio/activity';
import { execa } from 'execa';
import type { BackupPlan, TransferProgress, TransferResult } from '../domain/backup.js';
import { closeMasterCommand, rsyncArgs, rsyncFilterInput } from '../domain/rsync-args.js';
import { classifyRsyncExit, type FatalTransferError } from '../domain/rsync-exit.js';
import { parseProgressLine, parseStats } from '../domain/rsync-output.js';

const heartbeatEveryMs = 1_000;
const killGraceMs = 3_000;
const stderrTailLines = 20;
const stdoutTailChars = 8_192;

/** rsync was the run's last use of the shared ssh connection: close it now rather than when it times out
 * (a retried transfer logs in afresh, which also replaces a master that went bad). */
async function closeSshMaster(plan: BackupPlan): Promise<void> {
  const command = closeMasterCommand(plan);
  if (!command) return;
  const [ssh, ...args] = command;
  await execa(ssh!, args, { reject: false, timeout: 5_000, stdin: 'ignore' });
}

/** Pulls the plan's paths into `destination`; resolves for complete and partial copies, throws otherwise. */
export async function transferFiles(plan: BackupPlan, destination: string): Promise<TransferResult> {
  const context = Context.current();
  const started = Date.now();
  let progress: TransferProgress = { bytes: 0, percent: 0, filesTransferred: 0, rate: '' };
  // setpriv --pdeathsig: if the worker dies (even SIGKILL), rsync dies with it and ssh follows on EOF, so a
  // retried attempt never races an orphan. detached: rsync leads its own process group, which holds ssh too.
  // Exclude and allow-list rules for --exclude-from=- (a string input: execa closes stdin after it).
  const filterInput = rsyncFilterInput(plan);
  const child = execa('setpriv', ['--pdeathsig', 'SIGKILL', '--', 'rsync', ...rsyncArgs(plan, destination)], {
    detached: true,
    cleanup: false,
    reject: false,
    ...(filterInput ? { input: filterInput } : { stdin: 'ignore' as const }),
    buffer: false,
    encoding: 'utf8',
  });

  let stdoutTail = '';
  child.stdout?.on('data', (chunk: Buffer | string) => {
    stdoutTail = (stdoutTail + chunk.toString()).slice(-stdoutTailChars);
    const lines = stdoutTail.split(/[\r\n]/);
    for (let index = lines.length - 2; index >= 0; index--) {
      const parsed = parseProgressLine(lines[index] ?? '');
      if (parsed) {
        progress = parsed;
        break;
      }
    }
  });
  const stderrLines: string[] = [];
  let stderrRest = '';
  child.stderr?.on('data', (chunk: Buffer | string) => {
    const lines = (stderrRest + chunk.toString()).split(/\r?\n/);
    stderrRest = lines.pop() ?? '';
    stderrLines.push(...lines.filter((line) => line.trim() !== ''));
    stderrLines.splice(0, Math.max(0, stderrLines.length - stderrTailLines));
  });

  const killGroup = () => {
    signalGroup(child.pid, 'SIGTERM');
    setTimeout(() => signalGroup(child.pid, 'SIGKILL'), killGraceMs).unref();
  };
  context.cancellationSignal.addEventListener('abort', killGroup, { once: true });
  const heartbeat = setInterval(() => context.heartbeat(progress), heartbeatEveryMs);
  context.heartbeat(progress);

  let result;
  try {
    result = await child;
  } finally {
    clearInterval(heartbeat);
    context.cancellationSignal.removeEventListener('abort', killGroup);
    await closeSshMaster(plan);
  }
  if (stderrRest.trim() !== '') stderrLines.push(stderrRest);
  // Reported as cancelled, not failed, so the workflow knows an operator asked for it.
  if (context.cancellationSignal.aborted) throw context.cancellationSignal.reason;

  const exitCode = result.exitCode ?? -1;
  const outcome = result.exitCode === undefined ? 'transient' : classifyRsyncExit(exitCode);
  const source = `${plan.source.user}@${plan.source.address}:${plan.source.port}`;
  const stderr = stderrLines.join('\n');
  if (outcome === 'complete' || outcome === 'partial') {
    return {
      outcome,
      exitCode,
      ...parseStats(stdoutTail),
      durationMs: Date.now() - started,
      warnings: outcome === 'partial' ? stderrLines : [],
    };
  }
  if (/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|host key .* is not known/i.test(stderr)) {
    throw ApplicationFailure.nonRetryable(
      `ssh rejected the host key of ${source}: it is not in ${plan.ssh.knownHostsFile} (or it changed); nothing was transferred. ` +
        `Add the host's key there after checking it (ssh-keyscan -p ${plan.source.port} ${plan.source.address}). ssh said: ` +
        stderrLines.filter((line) => /host key|verification failed/i.test(line)).join(' '),
      'HostKeyRejected' satisfies FatalTransferError,
    );
  }
  if (/Permission denied \(/.test(stderr)) {
    throw ApplicationFailure.nonRetryable(
      `ssh login to ${source} with ${plan.ssh.identityFile} was refused; install the backup server's public key for ${plan.source.user}. ssh said: ${stderr}`,
      'SshAuthFailed' satisfies FatalTransferError,
    );
  }
  const how = result.exitCode === undefined ? `was killed by ${result.signal ?? 'a signal'}` : `exited ${exitCode}`;
  const message = `rsync from ${source} ${how}: ${stderr || '(no error output)'}`;
  if (outcome === 'transient') throw ApplicationFailure.retryable(message, 'RsyncTransient');
  throw ApplicationFailure.nonRetryable(message, 'RsyncFailed' satisfies FatalTransferError);
}

function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}
