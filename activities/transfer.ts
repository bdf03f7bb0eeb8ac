// Step 3, on the backup server's transfer queue: rsync over ssh under the dataset's lease and the shrink
// guard, with heartbeats, cancellation and exit codes turned into retry decisions.
import { Context } from '@temporalio/activity';
import { activityFailure } from '../domain/failures.js';
import type { BackupPlan, TransferGuard, TransferProgress, TransferResult } from '../domain/backup.js';
import {
  baselineWithoutPurge,
  defaultGuards,
  maxDeleteFor,
  missingMounts,
  purgeToCount,
  shrinkReason,
  type Baseline,
} from '../domain/guards.js';
import { countExcludedInCopy, filterFingerprint } from './excluded-purge.js';
import { rsyncArgs, rsyncFilterInput } from '../domain/rsync-args.js';
import { printable } from '../domain/printable.js';
import { classifyRsyncExit } from '../domain/rsync-exit.js';
import { advanceProgress, parseStats } from '../domain/rsync-output.js';
import { startChild } from '../subprocess/runner.js';
import { closeSshMaster } from './ssh-master.js';
import {
  currentBootId,
  describeLease,
  fence,
  leaseStep,
  takenByEarlierAttempt,
  readLease,
  rsyncWritersInto,
  sameHolder,
  writeLease,
  type Lease,
} from '../pool/lease.js';
import { poolFull, sshRefusal } from './ssh-failure.js';

const heartbeatEveryMs = 1_000;
/** How often a running transfer re-reads its lease (a zfs call each time). */
const leaseCheckEveryMs = 5_000;
const stderrTailLines = 20;
const stdoutTailChars = 8_192;

/** Pulls the plan's paths into `destination`; resolves for complete, partial and held copies, throws otherwise.
 * `baseline`: what the newest complete snapshot recorded (from ensureDataset); absent on a first run. */
export async function transferFiles(
  plan: BackupPlan,
  destination: string,
  baseline?: Baseline,
): Promise<TransferResult> {
  const context = Context.current();
  const started = Date.now();
  const attemptPlan = planForAttempt(plan, context.info.attempt);
  const lease = await takeLease(plan.dataset, destination);

  const guards = plan.guards ?? defaultGuards;
  const allowShrink = plan.allowShrink ?? false;
  const heldMounts =
    plan.hostSteps?.selection.mode === 'mounts' ? missingMounts(baseline, attemptPlan.paths, allowShrink) : [];
  // Protect rules keep the copy of a filesystem that is not mounted this time (its empty mount point
  // would otherwise be mirrored with --delete).
  const protect = heldMounts.map((mount) => `--filter=P ${mount.replace(/\/+$/, '')}/***`);
  // Files the operator newly excluded are purged as asked: room is made for them in both limits.
  const filter = filterFingerprint(attemptPlan);
  // A count that fails leaves both limits as they were (the guard may then hold, never delete more) and the
  // baseline's fingerprint in place, so that the next run counts again.
  const counted = purgeToCount(baseline, filter, allowShrink)
    ? await countExcludedInCopy(attemptPlan, destination, protect).catch(() => null)
    : undefined;
  const excludedPurge = counted ?? undefined;
  const recordedFilter = counted === null ? baseline?.filter : filter;
  const maxDelete = maxDeleteFor(baseline, guards, allowShrink, excludedPurge);
  const guardArgs = [...(maxDelete !== undefined ? [`--max-delete=${maxDelete}`] : []), ...protect];

  let progress: TransferProgress = { bytes: 0, percent: 0, filesTransferred: 0, rate: '' };
  // Exclude and allow-list rules for --exclude-from=- (a string input: execa closes stdin after it).
  // subprocess/runner.ts: own process group under --pdeathsig, cleaned environment, --secluded-args.
  const filterInput = rsyncFilterInput(attemptPlan);
  const run = startChild('rsync', [...guardArgs, ...rsyncArgs(attemptPlan, destination)], {
    signal: context.cancellationSignal,
    ...(filterInput ? { input: filterInput } : {}),
    buffer: false,
    encoding: 'utf8',
  });
  const child = run.process;

  let stdoutTail = '';
  child.stdout?.on('data', (chunk: Buffer | string) => {
    stdoutTail = (stdoutTail + chunk.toString()).slice(-stdoutTailChars);
    progress = advanceProgress(progress, stdoutTail);
  });
  const stderrLines: string[] = [];
  let stderrRest = '';
  child.stderr?.on('data', (chunk: Buffer | string) => {
    const lines = (stderrRest + chunk.toString()).split(/\r?\n/);
    stderrRest = lines.pop() ?? '';
    stderrLines.push(...lines.filter((line) => line.trim() !== '').map(printable));
    stderrLines.splice(0, Math.max(0, stderrLines.length - stderrTailLines));
  });

  const killGroup = run.stop;
  const heartbeat = setInterval(() => context.heartbeat(progress), heartbeatEveryMs);
  context.heartbeat(progress);
  // A later attempt (this one was given up for dead) or another worker took the dataset: stop writing.
  let lostTo: Lease | undefined;
  const leaseWatch = setInterval(() => {
    readLease(plan.dataset).then(
      (current) => {
        if (lostTo || sameHolder(current, lease)) return;
        lostTo = current ?? { ...lease, runId: '(none)', state: 'ready' };
        killGroup();
      },
      () => undefined,
    );
  }, leaseCheckEveryMs);

  let result;
  try {
    result = await run.result;
  } finally {
    clearInterval(heartbeat);
    clearInterval(leaseWatch);
  }
  // Closing the connection and reading the lease are independent: both at once.
  const [leaseNow] = await Promise.allSettled([lostTo ?? readLease(plan.dataset), closeSshMaster(attemptPlan)]);
  if (stderrRest.trim() !== '') stderrLines.push(printable(stderrRest));
  // Reported as cancelled, not failed, so the workflow knows an operator asked for it.
  if (context.cancellationSignal.aborted) throw context.cancellationSignal.reason;
  if (leaseNow.status === 'rejected') throw leaseNow.reason;
  const current = leaseNow.value;
  if (!sameHolder(current, lease)) {
    const message = `the dataset ${plan.dataset} was taken over by ${current ? describeLease(current) : 'nobody (lease removed)'} while this attempt wrote it; rsync was stopped`;
    // An earlier attempt of this run that woke up: the next attempt fences it and takes the dataset back.
    if (current && takenByEarlierAttempt(current, lease)) throw activityFailure(message, 'LeaseContended');
    throw activityFailure(message, 'LeaseLost');
  }

  const exitCode = result.exitCode ?? -1;
  const outcome = result.exitCode === undefined ? 'transient' : classifyRsyncExit(exitCode);
  const source = `${plan.source.user}@${plan.source.address}:${plan.source.port}`;
  const stderr = stderrLines.join('\n');
  if (outcome === 'complete' || outcome === 'partial' || outcome === 'deletions-held') {
    const stats = parseStats(stdoutTail);
    const guard: TransferGuard = {
      ...(baseline ? { baseline: baseline.snapshot } : {}),
      ...(maxDelete !== undefined ? { maxDelete } : {}),
      heldMounts,
      deletionsHeld: outcome === 'deletions-held',
      ...(recordedFilter ? { filter: recordedFilter } : {}),
      ...(excludedPurge?.entries ? { excludedPurge } : {}),
    };
    const shrunk = shrinkReason(
      baseline && baselineWithoutPurge(baseline, excludedPurge),
      { files: stats.filesTotal, bytes: stats.bytesTotal },
      guards,
      allowShrink,
    );
    const suspect = [
      ...(guard.deletionsHeld
        ? [
            `shrink held: rsync stopped deleting at --max-delete=${maxDelete} (guards.maxDeletePercent ${guards.maxDeletePercent}% of ${baseline?.files} files${excludedPurge?.entries ? `, plus ${excludedPurge.entries} newly excluded` : ''})`,
          ]
        : []),
      ...(shrunk ? [shrunk] : []),
    ];
    if (suspect.length > 0) guard.suspect = suspect.join('; ');
    await writeLease(plan.dataset, { ...lease, state: 'transferred' });
    return {
      outcome: outcome === 'partial' ? 'partial' : 'complete',
      exitCode,
      ...stats,
      durationMs: Date.now() - started,
      warnings: outcome === 'complete' ? [] : stderrLines,
      guard,
    };
  }
  const refusal = sshRefusal(plan, stderr);
  if (refusal) throw refusal;
  if (poolFull(stderr)) {
    throw activityFailure(
      `the backup server's pool is full (rsync exit ${exitCode}): ${stderrLines.filter(poolFull).slice(-2).join(' ')}; the copy in ${plan.dataset} is half-updated, its snapshots are untouched. Free space, then run again`,
      'PoolFull',
    );
  }
  const how = result.exitCode === undefined ? `was killed by ${result.signal ?? 'a signal'}` : `exited ${exitCode}`;
  const message = `rsync from ${source} ${how}: ${stderr || '(no error output)'}`;
  if (outcome === 'transient') throw activityFailure(message, 'RsyncTransient');
  throw activityFailure(message, 'RsyncFailed');
}

/** Each attempt after the first uses its own ssh control socket: an attempt given up for dead that wakes
 * up and closes "its" master must not cut the next attempt's session. */
function planForAttempt(plan: BackupPlan, attempt: number): BackupPlan {
  if (!plan.ssh.controlPath || attempt <= 1) return plan;
  return { ...plan, ssh: { ...plan.ssh, controlPath: `${plan.ssh.controlPath}-a${attempt}` } };
}

/**
 * Takes the dataset's lease for this attempt. An earlier attempt of the same run (given up for dead, e.g.
 * its worker was stopped) is fenced: its rsync on this machine is killed first. Another run's live
 * writer makes this attempt wait and retry; one whose writer is gone (a crash) is taken over.
 */
async function takeLease(dataset: string, mountpoint: string): Promise<Lease> {
  const info = Context.current().info;
  const mine: Lease = {
    workflowId: info.workflowExecution?.workflowId ?? '',
    runId: info.workflowExecution?.runId ?? '',
    attempt: info.attempt,
    state: 'writing',
    worker: info.taskQueue,
    boot: await currentBootId(),
  };
  // Writers first, then the lease: an attempt writes its lease before it starts rsync, so any rsync seen
  // here is explained by the lease read after it (or a later one), and a later attempt's rsync is never
  // mistaken for an earlier one's.
  const writers = await rsyncWritersInto(mountpoint);
  const step = leaseStep(await readLease(dataset), mine, writers);
  if (step.kind === 'superseded') throw activityFailure(`dataset ${dataset}: ${step.reason}`, 'AttemptSuperseded');
  if (step.kind === 'wait') throw activityFailure(`dataset ${dataset} ${step.reason}`, 'DatasetBusy');
  if (step.kind === 'fence' && !(await fence(step.groups, mountpoint))) {
    throw activityFailure(`could not stop the earlier attempt's rsync (pid ${step.groups.join(', ')})`, 'DatasetBusy');
  }
  await writeLease(dataset, mine);
  return mine;
}
