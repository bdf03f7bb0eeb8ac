// Operator verbs for cadence: `tidemark sync`, `schedules`, `pause`, `resume`, `trigger`.
import { userInfo } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { ScheduleNotFoundError, type Client, type ScheduleDescription } from '@temporalio/client';
import { ExitCode, TidemarkError } from '../domain/errors.js';
import { backupWorkflowId } from '../domain/names.js';
import type { DrillReport as DrillResult } from '../domain/drill.js';
import type { ScheduledBackupResult } from '../domain/schedule-spec.js';
import { NetboxError } from '../inventory/netbox.js';
import { serverEntry } from '../inventory/resolve.js';
import { resolveTemporal } from '../temporal/settings.js';
import type { Inventory } from '../inventory/schema.js';
import { loadHostSources } from '../inventory/sources.js';
import { backupScheduleId } from '../schedule/desired.js';
import { formatInZone } from '../schedule/next-runs.js';
import {
  actionMemoOf,
  formatReport,
  listOwnedSchedules,
  mapLimit,
  ownerOf,
  reconcileSchedules,
} from '../schedule/reconcile.js';
import { connectClient } from '../temporal/connection.js';

async function withClient<T>(inventory: Inventory, work: (client: Client) => Promise<T>): Promise<T> {
  const client = await connectClient(resolveTemporal(inventory));
  try {
    return await work(client);
  } finally {
    await client.connection.close();
  }
}

export interface SyncOptions {
  dryRun?: boolean;
  force?: boolean;
  json?: boolean;
}

/** `tidemark sync`: exit 0 when the inventory and the schedules agree afterwards, 1 otherwise. */
export async function syncCommand(inventory: Inventory, options: SyncOptions): Promise<ExitCode> {
  let sources;
  try {
    sources = await loadHostSources(inventory);
  } catch (error) {
    if (!(error instanceof NetboxError)) throw error;
    console.error(`tidemark: ${error.message}; no schedule was changed`);
    return ExitCode.backupFailed;
  }
  const report = await withClient(inventory, (client) =>
    reconcileSchedules({ client, sources, dryRun: options.dryRun ?? false, force: options.force ?? false }),
  );
  console.log(options.json ? JSON.stringify(report, null, 2) : formatReport(report, options.dryRun ?? false));
  return report.errors.length > 0 || report.suspicious ? ExitCode.backupFailed : ExitCode.ok;
}

export interface ScheduleRow {
  host: string;
  server: string;
  /** "backup" (tidemark:backup:…) or "drill", a scheduled restore drill (tidemark:verify:…, `verify.every`). */
  kind: 'backup' | 'drill';
  scheduleId: string;
  schedule: string;
  /** The zone the schedule's calendar runs in (its spec's); the table shows NEXT RUN in it. */
  timezone: string;
  nextRun: string | null;
  paused: boolean;
  note: string | null;
  lastResult: string | null;
  lastRunAt: string | null;
}

/** The last action's outcome: "SUCCESS …", "skipped: already running", "FAILED: …", "running". */
async function lastResult(
  client: Client,
  description: ScheduleDescription,
): Promise<{ text: string | null; at: string | null }> {
  const last = description.info.recentActions.at(-1);
  if (!last) return { text: null, at: null };
  const at = last.takenAt.toISOString();
  try {
    const handle = client.workflow.getHandle(last.action.workflow.workflowId, last.action.workflow.firstExecutionRunId);
    const status = (await handle.describe()).status.name;
    if (status === 'RUNNING') return { text: 'running', at };
    if (status !== 'COMPLETED') return { text: status, at };
    // A drill's result (DrillResult) has status and message too, and no outcome.
    const result = (await handle.result()) as ScheduledBackupResult | DrillResult;
    return {
      text:
        'outcome' in result && result.outcome === 'skipped'
          ? 'skipped: already running'
          : `${result.status}: ${result.message}`,
      at,
    };
  } catch (error) {
    const cause = (error as { cause?: Error }).cause;
    return { text: `FAILED: ${cause?.message ?? (error as Error).message}`, at };
  }
}

export async function scheduleRows(
  client: Client,
  filter: { host?: string; servers?: string[] } = {},
): Promise<ScheduleRow[]> {
  const { owned } = await listOwnedSchedules(client);
  const mine = owned.filter(
    (schedule) =>
      (schedule.owner.kind === 'backup' || schedule.owner.kind === 'verify') &&
      (filter.host === undefined || schedule.owner.host === filter.host) &&
      (filter.servers === undefined || filter.servers.includes(schedule.owner.server ?? '')),
  );
  const rows = await mapLimit(mine, 16, async (schedule): Promise<ScheduleRow | undefined> => {
    let description: ScheduleDescription;
    try {
      description = await client.schedule.getHandle(schedule.scheduleId).describe();
    } catch (error) {
      if (error instanceof ScheduleNotFoundError) return undefined;
      throw error;
    }
    const last = await lastResult(client, description);
    return {
      host: schedule.owner.host ?? '?',
      server: schedule.owner.server ?? '?',
      kind: schedule.owner.kind === 'verify' ? 'drill' : 'backup',
      scheduleId: schedule.scheduleId,
      schedule: actionMemoOf(description)?.summary ?? '?',
      timezone: description.spec.timezone ?? 'UTC',
      nextRun: description.info.nextActionTimes[0]?.toISOString() ?? null,
      paused: description.state.paused,
      note: description.state.note ?? null,
      lastResult: last.text,
      lastRunAt: last.at,
    };
  });
  return rows
    .filter((row): row is ScheduleRow => row !== undefined)
    .sort((a, b) => a.host.localeCompare(b.host) || a.server.localeCompare(b.server) || a.kind.localeCompare(b.kind));
}

/** `tidemark schedules [--json]`: every Tidemark backup and restore-drill schedule with its next run and last result. */
export async function schedulesCommand(
  inventory: Inventory,
  options: { json?: boolean; host?: string; server?: string },
): Promise<ExitCode> {
  const rows = await withClient(inventory, (client) =>
    scheduleRows(client, {
      ...(options.host ? { host: options.host } : {}),
      ...(options.server ? { servers: [options.server] } : {}),
    }),
  );
  if (options.json) {
    console.log(JSON.stringify(rows, null, 2));
    return ExitCode.ok;
  }
  if (rows.length === 0) {
    console.log('no Tidemark schedules; run "tidemark sync" to create them from the inventory');
    return ExitCode.ok;
  }
  // NEXT RUN in the schedule's own zone (with its offset), as its SCHEDULE column reads; LAST RESULT in UTC.
  const table = [['HOST', 'SERVER', 'KIND', 'SCHEDULE', "NEXT RUN (schedule's zone)", 'LAST RESULT (UTC)', 'PAUSED']];
  for (const row of rows) {
    table.push([
      row.host,
      row.server,
      row.kind,
      row.schedule,
      row.paused || !row.nextRun ? '-' : formatInZone(new Date(row.nextRun), row.timezone),
      row.lastResult ? `${row.lastRunAt?.slice(0, 16)}Z ${row.lastResult}`.slice(0, 80) : '-',
      row.paused ? `yes${row.note ? ` (${row.note})` : ''}` : 'no',
    ]);
  }
  const widths = table[0]!.map((_, column) => Math.max(...table.map((line) => line[column]!.length)));
  for (const line of table)
    console.log(
      line.map((cell, column) => (column === line.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  '),
    );
  return ExitCode.ok;
}

/** The host's Tidemark schedules: on `server`, or on every server of the inventory that has one. */
async function targetSchedules(
  client: Client,
  inventory: Inventory,
  host: string,
  server: string | undefined,
): Promise<Array<{ server: string; description: ScheduleDescription }>> {
  if (server !== undefined && !serverEntry(inventory, server)) {
    throw new TidemarkError(
      'USAGE',
      `--server: "${server}" is not under "servers" (known: ${Object.keys(inventory.servers).join(', ')})`,
    );
  }
  const servers = server ? [server] : Object.keys(inventory.servers);
  const found = await mapLimit(servers, 8, async (name) => {
    try {
      const description = await client.schedule.getHandle(backupScheduleId(host, name)).describe();
      return ownerOf(description.memo) ? { server: name, description } : undefined;
    } catch (error) {
      if (error instanceof ScheduleNotFoundError) return undefined;
      throw error;
    }
  });
  const targets = found.filter(
    (entry): entry is { server: string; description: ScheduleDescription } => entry !== undefined,
  );
  if (targets.length === 0) {
    throw new TidemarkError(
      'UNKNOWN_HOST',
      `no Tidemark schedule for ${host}${server ? ` on ${server}` : ''}; run "tidemark sync" first (or "tidemark start-backup" for a one-off run)`,
    );
  }
  return targets;
}

function operator(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'operator';
  }
}

/** `tidemark pause|resume --host H [--server S] [--reason …]`. A later `sync` keeps this state unless the inventory's `enabled` changes. */
/** One element of `pause --json` / `resume --json`. */
export interface PauseReport {
  host: string;
  server: string;
  paused: boolean;
  note: string;
  /** The inventory says enabled: false (a resumed schedule stays resumed until that setting changes). */
  disabledInInventory: boolean;
}

export async function pauseCommand(
  inventory: Inventory,
  options: { host: string; server?: string; reason?: string; resume: boolean; json?: boolean },
): Promise<ExitCode> {
  return withClient(inventory, async (client) => {
    const targets = await targetSchedules(client, inventory, options.host, options.server);
    const note = `${options.resume ? 'resumed' : 'paused'} by ${operator()}${options.reason ? `: ${options.reason}` : ''}`;
    const reports: PauseReport[] = [];
    for (const { server, description } of targets) {
      const handle = client.schedule.getHandle(backupScheduleId(options.host, server));
      if (options.resume) await handle.unpause(note);
      else await handle.pause(note);
      const disabledInInventory = actionMemoOf(description)?.enabled === false;
      reports.push({ host: options.host, server, paused: !options.resume, note, disabledInInventory });
      if (!options.json)
        console.log(
          `${options.resume ? 'resumed' : 'paused'} ${options.host}@${server}${disabledInInventory && options.resume ? ' (note: the inventory says enabled: false; it stays resumed until that setting changes)' : ''}`,
        );
    }
    if (options.json) console.log(JSON.stringify(reports, null, 2));
    return ExitCode.ok;
  });
}

/** One element of `trigger --json`. */
export interface TriggerReport {
  host: string;
  server: string;
  /** "started": a backup runs; "skipped": one was already running; "pending": the schedule has not acted yet;
   * "waiting-for-worker": started, but no worker has taken it yet. */
  outcome: 'started' | 'skipped' | 'pending' | 'waiting-for-worker';
  /** The schedule's own run (scheduledBackup), when it started. */
  scheduledWorkflowId?: string;
  backupWorkflowId: string;
  /** The backup's run id, when it started. */
  runId?: string;
}

/**
 * `tidemark trigger --host H [--server S]`: one run now through the schedule, i.e. through scheduledBackup,
 * which refuses to start a second backup while one runs. Exit 3 when every target was already running.
 */
export async function triggerCommand(
  inventory: Inventory,
  options: { host: string; server?: string; waitMs?: number; json?: boolean },
): Promise<ExitCode> {
  return withClient(inventory, async (client) => {
    const targets = await targetSchedules(client, inventory, options.host, options.server);
    const reports: TriggerReport[] = [];
    for (const { server, description } of targets) {
      const handle = client.schedule.getHandle(backupScheduleId(options.host, server));
      const before = new Set(description.info.recentActions.map((action) => action.action.workflow.workflowId));
      // ALLOW_ALL so Temporal never drops the trigger silently; scheduledBackup itself skips a twin and says so.
      await handle.trigger('ALLOW_ALL');
      const backupId = backupWorkflowId(options.host, server);
      const started = await waitForNewAction(handle, before, options.waitMs ?? 10_000);
      const outcome = started ? await waitForOutcome(client, started, backupId, options.waitMs ?? 10_000) : undefined;
      const report: TriggerReport = {
        host: options.host,
        server,
        outcome: !started ? 'pending' : outcome === 'skipped' ? 'skipped' : outcome ? 'started' : 'waiting-for-worker',
        backupWorkflowId: backupId,
        ...(started ? { scheduledWorkflowId: started.workflowId } : {}),
        ...(outcome && outcome !== 'skipped' ? { runId: outcome } : {}),
      };
      reports.push(report);
      if (!options.json) console.log(describeTrigger(report));
    }
    if (options.json) console.log(JSON.stringify(reports, null, 2));
    return reports.every((report) => report.outcome === 'skipped') ? ExitCode.alreadyRunning : ExitCode.ok;
  });
}

function describeTrigger(report: TriggerReport): string {
  const pair = `${report.host}@${report.server}`;
  switch (report.outcome) {
    case 'pending':
      return `triggered ${pair}; the schedule has not started it yet (see "tidemark schedules")`;
    case 'skipped':
      return `${pair}: skipped: already running (${report.backupWorkflowId}); ${report.scheduledWorkflowId} ended`;
    case 'started':
      return `${pair}: started ${report.scheduledWorkflowId} → ${report.backupWorkflowId} run ${report.runId}`;
    case 'waiting-for-worker':
      return `${pair}: started ${report.scheduledWorkflowId} (waiting for a worker)`;
  }
}

type ActionRef = { workflowId: string; firstExecutionRunId: string };

async function waitForNewAction(
  handle: ReturnType<Client['schedule']['getHandle']>,
  before: Set<string>,
  timeoutMs: number,
): Promise<ActionRef | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const fresh = (await handle.describe()).info.recentActions
      .map((action) => action.action.workflow)
      .filter((workflow) => !before.has(workflow.workflowId));
    if (fresh.length > 0) return fresh.at(-1);
    await sleep(250);
  }
  return undefined;
}

/** "skipped", the backup's run id once the child started, or undefined when nothing happened in time. */
async function waitForOutcome(
  client: Client,
  action: ActionRef,
  backupId: string,
  timeoutMs: number,
): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  const scheduled = client.workflow.getHandle(action.workflowId, action.firstExecutionRunId);
  while (Date.now() < deadline) {
    const description = await scheduled.describe();
    if (description.status.name === 'COMPLETED') {
      const result = (await scheduled.result()) as ScheduledBackupResult;
      if (result.outcome === 'skipped') return 'skipped';
      return result.runId;
    }
    if (description.status.name !== 'RUNNING') return undefined;
    const child = await client.workflow
      .getHandle(backupId)
      .describe()
      .catch(() => undefined);
    if (child && child.parentExecution?.workflowId === action.workflowId) return child.runId;
    await sleep(250);
  }
  return undefined;
}
