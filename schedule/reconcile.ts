// The difference between the inventory and the Tidemark schedules Temporal holds, and applying it:
// create what is missing, update what changed (spec hash in the action memo), delete schedules of hosts
// that left. Schedules Tidemark does not own (id prefix *and* owner memo) are never touched; a schedule
// an operator paused stays paused unless the inventory changed that host's `enabled`.
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  type Client,
  type ScheduleDescription,
} from '@temporalio/client';
import { controlTaskQueue } from '../domain/names.js';
import { specHashAttribute } from '../domain/search-attributes.js';
import type { SyncReport } from '../domain/schedule-spec.js';
import type { SourcedInventory } from '../inventory/sources.js';
import {
  backupSchedulePrefix,
  desiredBackupSchedules,
  desiredDrillSchedules,
  drillSchedulePrefix,
  desiredSyncSchedule,
  memoKey,
  syncScheduleId,
  type ActionMemo,
  type DesiredSchedule,
  type OwnerMemo,
} from './desired.js';

export interface ReconcileOptions {
  client: Client;
  sources: SourcedInventory;
  /** Queue the scheduled workflows run on. Default the control queue. */
  taskQueue?: string;
  dryRun?: boolean;
  /** Apply a suspicious drop in hosts. */
  force?: boolean;
  /** Temporal calls in flight at once. Default 16. */
  concurrency?: number;
}

/** A schedule Tidemark owns, as found in Temporal. */
export interface OwnedSchedule {
  scheduleId: string;
  owner: OwnerMemo;
  paused: boolean;
  note?: string;
  /** The spec hash the list shows (the TidemarkSpecHash attribute), when the schedule carries it. */
  listedHash?: string;
  /** It has never started a run, and this is when it first will: the pair is not due yet (status). */
  firstDueAt?: Date;
}

/** A drop to zero hosts, or of more than half of at least 4, is not applied without --force. */
export function suspiciousDrop(before: number, removed: number): string | undefined {
  if (before === 0 || removed === 0) return undefined;
  const after = before - removed;
  if (after === 0 && before >= 2) return `the inventory lists no hosts where ${before} had schedules`;
  if (before >= 4 && removed * 2 > before)
    return `${removed} of ${before} hosts would lose their schedules (more than half)`;
  return undefined;
}

export function ownerOf(memo: Record<string, unknown> | undefined): OwnerMemo | undefined {
  const value = memo?.[memoKey] as OwnerMemo | undefined;
  return value && typeof value === 'object' && value.owner === 'tidemark' ? value : undefined;
}

export function actionMemoOf(description: ScheduleDescription): ActionMemo | undefined {
  const value = description.action.memo?.[memoKey] as ActionMemo | undefined;
  return value && typeof value === 'object' && typeof value.specHash === 'string' ? value : undefined;
}

/** Every Tidemark-owned schedule (eventually consistent: a schedule made a moment ago may be missing). */
export async function listOwnedSchedules(client: Client): Promise<{ owned: OwnedSchedule[]; foreign: string[] }> {
  const owned: OwnedSchedule[] = [];
  const foreign: string[] = [];
  for await (const summary of client.schedule.list({ pageSize: 1000 })) {
    if (!summary.scheduleId.startsWith('tidemark:')) continue;
    const owner = ownerOf(summary.memo);
    const listedHash = summary.typedSearchAttributes?.get(specHashAttribute);
    if (owner)
      owned.push({
        scheduleId: summary.scheduleId,
        owner,
        paused: summary.state.paused,
        ...(summary.state.note ? { note: summary.state.note } : {}),
        ...(listedHash ? { listedHash } : {}),
        ...(summary.info.recentActions.length === 0 && summary.info.nextActionTimes[0]
          ? { firstDueAt: summary.info.nextActionTimes[0] }
          : {}),
      });
    else foreign.push(summary.scheduleId);
  }
  return { owned, foreign };
}

/** Runs `work` over `items`, at most `limit` at a time. */
export async function mapLimit<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  });
  await Promise.all(runners);
  return results;
}

function label(schedule: {
  kind: string;
  host?: string | undefined;
  server?: string | undefined;
  scheduleId: string;
}): string {
  return schedule.kind === 'backup' && schedule.host && schedule.server
    ? `${schedule.host}@${schedule.server}`
    : schedule.scheduleId.replace(/^tidemark:/, '');
}

type Decision =
  { op: 'create' } | { op: 'update'; was?: string } | { op: 'unchanged'; restamp?: boolean } | { op: 'foreign' };

/** Whether the namespace has the spec-hash attribute (registered by `tidemark temporal setup`). A namespace
 * without it, or a client not allowed to ask, gets the slower path that describes every schedule. */
async function specHashAttributeRegistered(client: Client): Promise<boolean> {
  try {
    const { customAttributes } = await client.connection.operatorService.listSearchAttributes({
      namespace: client.options.namespace,
    });
    return Boolean(customAttributes?.[specHashAttribute.name]);
  } catch {
    return false;
  }
}

export async function reconcileSchedules(options: ReconcileOptions): Promise<SyncReport> {
  const { client, sources } = options;
  const taskQueue = options.taskQueue ?? controlTaskQueue;
  const limit = options.concurrency ?? 16;
  const inventory = sources.inventory;
  const scopeServers = new Set(Object.keys(inventory.servers));
  const syncId = syncScheduleId(taskQueue);

  const desiredSet = desiredBackupSchedules(inventory, taskQueue);
  const desired = [...desiredSet.schedules];
  const sync = desiredSyncSchedule(inventory, taskQueue);
  if (sync) desired.push(sync);
  const errorHosts = new Set(desiredSet.errors.map((error) => error.host));
  desired.push(...desiredDrillSchedules(inventory, errorHosts, taskQueue));
  const report: SyncReport = {
    applied: false,
    created: 0,
    updated: 0,
    deleted: 0,
    unchanged: 0,
    lines: [],
    errors: desiredSet.errors.map((error) => `! ${error.host}: ${error.message} (its schedules are left as they are)`),
    warnings: [...sources.warnings],
  };

  // Read: what Temporal has.
  const [{ owned, foreign }, stampHashes] = await Promise.all([
    listOwnedSchedules(client),
    specHashAttributeRegistered(client),
  ]);
  if (!stampHashes)
    report.warnings.push(
      `the namespace lacks the ${specHashAttribute.name} search attribute, so every schedule was described; run "tidemark temporal setup" to make sync read them from one list`,
    );
  const stamp = (want: DesiredSchedule) =>
    stampHashes ? { typedSearchAttributes: [{ key: specHashAttribute, value: want.hash }] } : {};
  const inScope = owned.filter((schedule) =>
    schedule.owner.kind === 'backup'
      ? scopeServers.has(schedule.owner.server ?? '') && schedule.scheduleId.startsWith(backupSchedulePrefix)
      : schedule.owner.kind === 'verify'
        ? scopeServers.has(schedule.owner.server ?? '') && schedule.scheduleId.startsWith(drillSchedulePrefix)
        : schedule.scheduleId === syncId,
  );
  const outOfScope = owned.filter(
    (schedule) => schedule.owner.kind === 'backup' && !scopeServers.has(schedule.owner.server ?? ''),
  );
  if (outOfScope.length > 0) {
    const servers = [...new Set(outOfScope.map((schedule) => schedule.owner.server))].sort();
    report.warnings.push(
      `${outOfScope.length} Tidemark schedule(s) of servers not in this inventory (${servers.slice(0, 5).join(', ')}${servers.length > 5 ? ', …' : ''}) left alone`,
    );
  }
  const ownedById = new Map(inScope.map((schedule) => [schedule.scheduleId, schedule]));
  const foreignIds = new Set(foreign);

  const decide = (want: DesiredSchedule, description: ScheduleDescription): Decision => {
    if (!ownerOf(description.memo)) return { op: 'foreign' };
    const memo = actionMemoOf(description);
    if (memo?.specHash === want.hash) return { op: 'unchanged' };
    return { op: 'update', ...(memo?.summary ? { was: memo.summary } : {}) };
  };
  const describeOrMissing = async (scheduleId: string): Promise<ScheduleDescription | undefined> => {
    try {
      return await client.schedule.getHandle(scheduleId).describe();
    } catch (error) {
      if (error instanceof ScheduleNotFoundError) return undefined;
      throw error;
    }
  };

  // A listed schedule showing the wanted hash is unchanged: work is proportional to what changed. Others are
  // described (the list may be stale, or the schedule predates the hash attribute); unlisted ones are
  // created, or described on a dry run.
  const decisions = await mapLimit(
    desired,
    limit,
    async (want): Promise<{ want: DesiredSchedule; decision: Decision; description?: ScheduleDescription }> => {
      if (foreignIds.has(want.scheduleId)) return { want, decision: { op: 'foreign' } };
      const listed = ownedById.get(want.scheduleId);
      if (!listed && !options.dryRun) return { want, decision: { op: 'create' } };
      if (listed?.listedHash === want.hash) return { want, decision: { op: 'unchanged' } };
      const description = await describeOrMissing(want.scheduleId);
      if (!description) return { want, decision: { op: 'create' } };
      const decision = decide(want, description);
      // Unchanged but without the hash attribute (made before it existed): write it once, so later syncs skip
      // the describe. A schedule that has it and was only listed stale needs nothing.
      const restamp =
        decision.op === 'unchanged' &&
        stampHashes &&
        description.typedSearchAttributes.get(specHashAttribute) !== want.hash;
      if (restamp) return { want, decision: { op: 'unchanged', restamp }, description };
      return { want, decision, description };
    },
  );
  const desiredIds = new Set(desired.map((want) => want.scheduleId));
  const deletions = inScope.filter(
    (schedule) =>
      !desiredIds.has(schedule.scheduleId) &&
      !(schedule.owner.kind !== 'sync' && errorHosts.has(schedule.owner.host ?? '')),
  );

  // A source that suddenly lists far fewer hosts is more likely broken than right.
  const hostsBefore = new Set(
    inScope.filter((schedule) => schedule.owner.kind === 'backup').map((schedule) => schedule.owner.host ?? ''),
  );
  const hostsAfter = new Set([...desiredSet.schedules.map((want) => want.host ?? ''), ...errorHosts]);
  const removedHosts = [...hostsBefore].filter((host) => !hostsAfter.has(host)).length;
  const suspicion = suspiciousDrop(hostsBefore.size, removedHosts);
  if (suspicion && options.force) report.warnings.push(`applied despite: ${suspicion} (--force)`);
  if (suspicion && !options.force) report.suspicious = suspicion;

  const apply = !options.dryRun && !report.suspicious;

  /** Schedules this sync wrote, with the hash each now carries (see waitUntilListed). */
  const written = new Map<string, string>();
  /** Schedules this sync deleted (see waitUntilListed). */
  const deleted = new Set<string>();
  const state = (want: DesiredSchedule) =>
    want.enabled ? {} : { paused: true, note: 'disabled in the inventory (enabled: false)' };
  const create = async (want: DesiredSchedule): Promise<Decision> => {
    try {
      await client.schedule.create({ ...want.options, ...stamp(want), state: state(want) });
      if (stampHashes) written.set(want.scheduleId, want.hash);
      return { op: 'create' };
    } catch (error) {
      if (!(error instanceof ScheduleAlreadyRunning)) throw error;
      const description = await describeOrMissing(want.scheduleId);
      if (!description) throw error;
      const decision = decide(want, description);
      if (decision.op === 'update') await update(want);
      return decision;
    }
  };
  const update = async (want: DesiredSchedule): Promise<void> => {
    let hashWritten = false;
    await client.schedule.getHandle(want.scheduleId).update((previous) => {
      const before = actionMemoOf(previous);
      // A schedule that carries the hash gets the new one even when this sync could not ask whether the
      // attribute is registered (it is: the schedule has it): a stale hash would be trusted by later syncs.
      hashWritten = stampHashes || previous.typedSearchAttributes.get(specHashAttribute) !== undefined;
      const stamped = hashWritten ? { typedSearchAttributes: [{ key: specHashAttribute, value: want.hash }] } : {};
      // The operator's pause stands unless the inventory itself switched `enabled`.
      const keep = before === undefined || before.enabled === want.enabled;
      return {
        spec: want.options.spec,
        action: want.options.action,
        policies: want.options.policies ?? {},
        ...stamped,
        state: keep
          ? { paused: previous.state.paused, ...(previous.state.note ? { note: previous.state.note } : {}) }
          : {
              paused: !want.enabled,
              note: want.enabled ? 'enabled in the inventory' : 'disabled in the inventory (enabled: false)',
            },
      };
    });
    // Only a hash written can be waited for: a schedule without one is described by every sync anyway.
    if (hashWritten) written.set(want.scheduleId, want.hash);
  };

  const lines: Array<{ key: string; line: string }> = [];
  await mapLimit(decisions, limit, async ({ want, decision }) => {
    let outcome = decision;
    try {
      if (apply && decision.op === 'create') outcome = await create(want);
      else if (apply && (decision.op === 'update' || (decision.op === 'unchanged' && decision.restamp)))
        await update(want);
    } catch (error) {
      report.errors.push(`! ${label(want)}: ${decision.op} failed: ${(error as Error).message}`);
      return;
    }
    if (outcome.op === 'create') {
      report.created++;
      lines.push({ key: `1${label(want)}`, line: `+ ${label(want)} ${want.summary}` });
    } else if (outcome.op === 'update') {
      report.updated++;
      lines.push({
        key: `2${label(want)}`,
        line: `~ ${label(want)} ${want.summary}${outcome.was ? ` (was ${outcome.was})` : ''}`,
      });
    } else if (outcome.op === 'unchanged') report.unchanged++;
    else report.errors.push(`! ${label(want)}: schedule ${want.scheduleId} exists but is not Tidemark's; left alone`);
  });
  await mapLimit(deletions, limit, async (schedule) => {
    try {
      if (apply) {
        await client.schedule.getHandle(schedule.scheduleId).delete();
        deleted.add(schedule.scheduleId);
      }
    } catch (error) {
      if (!(error instanceof ScheduleNotFoundError)) {
        report.errors.push(
          `! ${label({ ...schedule.owner, scheduleId: schedule.scheduleId })}: delete failed: ${(error as Error).message}`,
        );
        return;
      }
    }
    report.deleted++;
    lines.push({
      key: `3${label({ ...schedule.owner, scheduleId: schedule.scheduleId })}`,
      line: `- ${label({ ...schedule.owner, scheduleId: schedule.scheduleId })}`,
    });
  });
  // Also when this sync could not ask about the attribute: it stamped the schedules that carry one.
  if (written.size + deleted.size > 0) {
    const late = await waitUntilListed(client, written, deleted);
    if (late > 0)
      report.warnings.push(
        `${late} schedule(s) this sync wrote or deleted are not yet listed as they now are; a sync started before the list catches up may trust what it shows, so let a minute pass before the next one`,
      );
  }
  report.lines = lines.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map((entry) => entry.line);
  report.applied = apply;
  return report;
}

/**
 * Waits until the paged list shows each written schedule with its new hash and no deleted one, and returns
 * how many it does not after `timeoutMs`. Why: the list is eventually consistent, and a sync trusts a listed
 * hash. Without this, an edit A→B synced and reverted to A at once could meet a list still showing A and
 * leave B in place, and a host removed and added back at once could meet its deleted schedule still listed
 * with the wanted hash and get none.
 */
async function waitUntilListed(
  client: Client,
  written: Map<string, string>,
  deleted: Set<string>,
  timeoutMs = 30_000,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { owned } = await listOwnedSchedules(client);
    const listed = new Map(owned.map((schedule) => [schedule.scheduleId, schedule.listedHash]));
    const late =
      [...written].filter(([scheduleId, hash]) => listed.get(scheduleId) !== hash).length +
      [...deleted].filter((scheduleId) => listed.has(scheduleId)).length;
    if (late === 0 || Date.now() >= deadline) return late;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The plan as printed by `tidemark sync`: lines, then a count, then warnings and errors. */
export function formatReport(report: SyncReport, dryRun: boolean): string {
  const out = [...report.lines];
  if (report.suspicious)
    out.push(
      `NOT APPLIED: ${report.suspicious}; check the inventory source, then run "tidemark sync --force" if this is right`,
    );
  const plan = `${report.created} to create, ${report.updated} to update, ${report.deleted} to delete, ${report.unchanged} unchanged`;
  if (dryRun) out.push(`dry run: ${plan}; nothing changed`);
  else if (!report.applied) out.push(`not applied: ${plan}`);
  else
    out.push(
      `${report.created} created, ${report.updated} updated, ${report.deleted} deleted, ${report.unchanged} unchanged`,
    );
  for (const warning of report.warnings) out.push(`warning: ${warning}`);
  for (const error of report.errors) out.push(error);
  return out.join('\n');
}
