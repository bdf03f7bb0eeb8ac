// The source side of replication: `zfs send` of the host's dataset piped, at the target's rate limit, into
// ssh to the target's forced-command filter, which runs `zfs receive -u <its dataset>/<host>`. Derives
// everything from this server's inventory and pool; the input carries names and the target's listing.
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Context } from '@temporalio/activity';
import { activityFailure } from '../domain/failures.js';
import { planSend, type ReplicaSnapshot, type ReplicationInput, type SendPlan } from '../domain/replication.js';
import { sshArgv } from '../domain/rsync-args.js';
import { loadInventory } from '../inventory/load.js';
import { resolveReplication, type ResolvedReplication } from '../inventory/replication.js';
import { listReplicaSnapshots, setReplicationBase } from '../pool/replication.js';
import { startChild } from '../subprocess/runner.js';
import { sshRefusal } from './ssh-failure.js';
import { hostKeyUnderName } from './host-key-name.js';
import { failIfInventoryError } from './replicate-target.js';

export interface SendRequest extends ReplicationInput {
  /** The target's snapshots (prepareReplicaTarget), oldest first. */
  targetSnapshots: ReplicaSnapshot[];
  /** The target's pool keeps partial receives (`zfs receive -s`). */
  resumable: boolean;
  /** A partial receive to continue (`zfs send -t`). */
  resumeToken?: string;
}

export interface SendResult {
  plan: SendPlan;
  /** Snapshots the target has now that it did not have before, oldest first. */
  received: string[];
  bytesSent: number;
  durationMs: number;
}

/** The sendReplica activity. */
/** `say`: an INFO line for the worker's log (the target's key copied under its name in known_hosts). */
export async function sendReplica(
  inventoryPath: string,
  request: SendRequest,
  say: (message: string) => void = () => {},
): Promise<SendResult> {
  const started = Date.now();
  const resolved = await failIfInventoryError(async () =>
    resolveReplication(await loadInventory(inventoryPath), request),
  );
  const source = await listReplicaSnapshots(resolved.sourceDataset);
  const plan = planSend(source, request.targetSnapshots);
  if (plan.kind !== 'full' && plan.kind !== 'incremental')
    return { plan, received: [], bytesSent: 0, durationMs: Date.now() - started };
  // A partial resumable receive (OpenZFS) continues where it stopped; otherwise from the common snapshot.
  const sendArgs = request.resumeToken
    ? ['send', '-t', request.resumeToken]
    : plan.kind === 'incremental'
      ? ['send', '-I', `${resolved.sourceDataset}@${plan.from}`, `${resolved.sourceDataset}@${plan.to}`]
      : ['send', `${resolved.sourceDataset}@${plan.to}`];
  await hostKeyUnderName({ ssh: resolved.ssh, source: { ...resolved.login, sudo: false } }, say);
  const bytesSent = await pipeToTarget(resolved, sendArgs, request.resumable);
  await setReplicationBase(resolved.sourceDataset, request.target, plan.to);
  return { plan, received: receivedNames(source, plan), bytesSent, durationMs: Date.now() - started };
}

/** The receive command the target's filter admits (deploy/server/tidemark-receive-filter). */
export function receiveCommand(targetDataset: string, resumable: boolean): string {
  return `zfs receive -u${resumable ? ' -s' : ''} ${targetDataset}`;
}

function receivedNames(source: readonly ReplicaSnapshot[], plan: SendPlan): string[] {
  if (plan.kind === 'full') return [plan.to];
  if (plan.kind !== 'incremental') return [];
  const names = source.map((snapshot) => snapshot.name);
  return names.slice(names.indexOf(plan.from) + 1, names.indexOf(plan.to) + 1);
}

/** zfs send | (rate limit, byte count) | ssh target 'zfs receive ...'; heartbeats carry the bytes sent. */
async function pipeToTarget(resolved: ResolvedReplication, sendArgs: string[], resumable: boolean): Promise<number> {
  const context = Context.current();
  const plan = { ssh: resolved.ssh, source: { ...resolved.login, sudo: false } };
  const [, ...sshRest] = sshArgv(plan, receiveCommand(resolved.targetDataset, resumable));
  // subprocess/runner.ts: each in its own process group under --pdeathsig (a dying worker takes them
  // along), the cleaned environment, both stopped on cancel.
  const streams = { stdin: 'pipe', stdout: 'pipe', stderr: 'pipe', buffer: false } as const;
  const signal = context.cancellationSignal;
  const sender = startChild('zfs', sendArgs, { ...streams, signal });
  const receiver = startChild('ssh', sshRest, { ...streams, signal });
  const stderr = { sender: '', receiver: '' };
  sender.process.stderr!.on(
    'data',
    (chunk: Buffer) => (stderr.sender = (stderr.sender + chunk.toString()).slice(-4000)),
  );
  receiver.process.stderr!.on(
    'data',
    (chunk: Buffer) => (stderr.receiver = (stderr.receiver + chunk.toString()).slice(-4000)),
  );
  receiver.process.stdout!.resume();
  sender.process.stdin!.end();
  const meter = new RateMeter(parseRate(resolved.bandwidthLimit));
  const beat = setInterval(() => context.heartbeat({ bytesSent: meter.bytes }), 1_000);
  const [senderResult, receiverResult] = await Promise.all([
    sender.result,
    receiver.result,
    // A broken pipe shows in the exit codes below; the pipeline's own error adds nothing.
    pipeline(sender.process.stdout!, meter, receiver.process.stdin!).catch(() => undefined),
  ]).finally(() => clearInterval(beat));
  const senderCode = senderResult.exitCode ?? null;
  const receiverCode = receiverResult.exitCode ?? null;
  if (context.cancellationSignal.aborted) throw context.cancellationSignal.reason;
  if (senderCode === 0 && receiverCode === 0) return meter.bytes;
  const refusal = sshRefusal(plan, stderr.receiver, `tidemark host-key --receive ${resolved.ssh.hostKeyAlias}`);
  if (refusal) throw refusal;
  const said =
    `zfs send exited ${senderCode ?? 'on a signal'}${stderr.sender.trim() ? ` (${lastLines(stderr.sender)})` : ''}; ` +
    `receive on ${resolved.login.address} exited ${receiverCode ?? 'on a signal'}${stderr.receiver.trim() ? ` (${lastLines(stderr.receiver)})` : ''}`;
  // The filter's refusals, and zfs receive's own ("destination has been modified", "does not match"): the same next time.
  if (/tidemark-receive-filter: refused|cannot receive/.test(stderr.receiver) && senderCode !== null)
    throw activityFailure(
      `replication of ${resolved.host} refused after ${meter.bytes} bytes: ${said}`,
      'ReplicationRefused',
    );
  throw activityFailure(
    `replication of ${resolved.host} interrupted after ${meter.bytes} bytes: ${said}`,
    'ReplicationInterrupted',
  );
}

function lastLines(text: string): string {
  return text.trim().split('\n').slice(-3).join(' | ');
}

/** "10M" → bytes per second (K/M/G are powers of 1024, as rsync's --bwlimit); undefined: unlimited. */
export function parseRate(rate: string | undefined): number | undefined {
  if (!rate) return undefined;
  const factor = { K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[rate.slice(-1)] ?? 1;
  return Number.parseInt(rate, 10) * factor;
}

/** Counts the bytes through it and, with a rate, holds each chunk back until the rate allows it. */
class RateMeter extends Transform {
  bytes = 0;
  private readonly started = Date.now();
  constructor(private readonly bytesPerSecond: number | undefined) {
    super();
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    const due = this.bytesPerSecond ? this.started + (this.bytes / this.bytesPerSecond) * 1000 : 0;
    const wait = due - Date.now();
    if (wait <= 0) return done(null, chunk);
    setTimeout(() => done(null, chunk), wait);
  }
}
