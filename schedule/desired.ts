// inventory → schedule: the Temporal Schedules the inventory calls for, one per (host, server) plus the
// syncInventory schedule, each with a hash of everything that would be written (to update only on change).
import { createHash } from 'node:crypto';
import type { CalendarSpec, ScheduleOptions, ScheduleSpec } from '@temporalio/client';
import { parseDuration } from '../domain/duration.js';
import { controlTaskQueue } from '../domain/names.js';
import {
  planTiming,
  shortDuration,
  stableHash,
  type BackupTiming,
  type CalendarRule,
  type ScheduledBackupInput,
  type TimingResult,
} from '../domain/schedule-spec.js';
import { resolveHost, resolveSchedule, resolveVerify } from '../inventory/resolve.js';
import type { Inventory } from '../inventory/schema.js';

/** Every backup schedule id starts with this; Tidemark manages only ids with it *and* its memo. */
export const backupSchedulePrefix = 'tidemark:backup:';

export function backupScheduleId(host: string, server: string): string {
  return `${backupSchedulePrefix}${host}@${server}`;
}

/** The syncInventory schedule of the workers polling `taskQueue` (one per control queue). */
export function syncScheduleId(taskQueue: string): string {
  return taskQueue === controlTaskQueue ? 'tidemark:sync-inventory' : `tidemark:sync-inventory:${taskQueue}`;
}

/** Workflow id prefix of scheduled runs (Temporal appends the scheduled time). */
export function scheduledWorkflowId(host: string, server: string): string {
  return `scheduled-backup:${host}@${server}`;
}

/** Memo key on schedules (ownership, written once) and on their action (spec hash, updated with it). */
export const memoKey = 'tidemark';

/** Schedule memo: who owns it. Temporal cannot update a schedule's memo, so only fixed facts live here. */
export interface OwnerMemo {
  owner: 'tidemark';
  kind: 'backup' | 'sync' | 'verify';
  host?: string;
  server?: string;
}

/** Action memo: what was last written, compared by the next reconcile. */
export interface ActionMemo {
  specHash: string;
  summary: string;
  enabled: boolean;
}

export interface DesiredSchedule {
  scheduleId: string;
  kind: 'backup' | 'sync' | 'verify';
  host?: string;
  server?: string;
  /** Everything but `state` (paused, note), which reconcile decides. */
  options: Omit<ScheduleOptions, 'state'>;
  hash: string;
  summary: string;
  enabled: boolean;
}

export interface DesiredSet {
  schedules: DesiredSchedule[];
  /** Hosts whose schedule cannot be computed: their existing schedules are left as they are. */
  errors: Array<{ host: string; message: string }>;
}

function calendar(rule: CalendarRule): CalendarSpec {
  return {
    hour: rule.hours.map((range) => ({ start: range.start, end: range.end })),
    minute: rule.minutes.map((range) => ({ start: range.start, end: range.end })),
    second: rule.anySecond ? '*' : 0,
    comment: rule.anySecond ? 'tidemark blackout' : 'tidemark backup',
  };
}

/** The domain timing as the SDK's ScheduleSpec. */
export function temporalSpec(timing: BackupTiming): ScheduleSpec {
  return {
    ...(timing.calendars.length > 0 ? { calendars: timing.calendars.map(calendar) } : {}),
    ...(timing.intervals.length > 0
      ? { intervals: timing.intervals.map((interval) => ({ every: interval.everyMs, offset: interval.offsetMs })) }
      : {}),
    ...(timing.cron.length > 0 ? { cronExpressions: timing.cron } : {}),
    ...(timing.skip.length > 0 ? { skip: timing.skip.map(calendar) } : {}),
    jitter: timing.jitterMs,
    timezone: timing.timezone,
  };
}

/** JSON with sorted keys: the same content always hashes the same. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

export function specHash(content: unknown): string {
  return createHash('sha256').update(canonical(content)).digest('hex').slice(0, 16);
}

/** The timing of each of a host's servers (sorted: a server's index spreads it from the others).
 * Throws when the host's settings cannot be resolved. */
export function hostTimings(inventory: Inventory, host: string): Array<{ server: string; timing: TimingResult }> {
  const servers = [...resolveHost(inventory, host).servers].sort();
  const settings = resolveSchedule(inventory, host);
  return servers.map((server, index) => ({ server, timing: planTiming(host, index, servers.length, settings) }));
}

/** The backup schedules of every host and server the (merged) inventory lists. */
export function desiredBackupSchedules(inventory: Inventory, taskQueue = controlTaskQueue): DesiredSet {
  const schedules: DesiredSchedule[] = [];
  const errors: DesiredSet['errors'] = [];
  for (const host of Object.keys(inventory.hosts).sort()) {
    let timings;
    try {
      timings = hostTimings(inventory, host);
    } catch (error) {
      errors.push({ host, message: (error as Error).message });
      continue;
    }
    for (const { server, timing } of timings) {
      if (!timing.ok) {
        // The same for every server of the host: report it once.
        if (!errors.some((error) => error.host === host))
          errors.push({ host, message: `hosts.${host}: ${timing.error}` });
        continue;
      }
      const input: ScheduledBackupInput = { host, server };
      schedules.push(
        buildSchedule({
          kind: 'backup',
          scheduleId: backupScheduleId(host, server),
          host,
          server,
          timing: timing.timing,
          workflowType: 'scheduledBackup',
          workflowId: scheduledWorkflowId(host, server),
          args: [input],
          taskQueue,
        }),
      );
    }
  }
  return { schedules, errors };
}

/** Every restore-drill schedule id starts with this. */
export const drillSchedulePrefix = 'tidemark:verify:';

export function drillScheduleId(host: string, server: string): string {
  return `${drillSchedulePrefix}${host}@${server}`;
}

/** Workflow id prefix of scheduled drills (Temporal appends the scheduled time). */
export function drillWorkflowId(host: string, server: string): string {
  return `restore-drill:${host}@${server}`;
}

/** What the drill schedule starts: workflows/restore-drill.ts. */
export interface RestoreDrillInput {
  host: string;
  server: string;
}

/** One drill schedule per (host, server) whose resolved `verify.every` is set. Its workflow runs on the control
 * queue like every Tidemark workflow; its one activity on the server's own queue (the drill reads its pool). Drills are spread over the period by the pair's name, as backups are by the host's;
 * a host whose backups are disabled has its drills paused too. Hosts in `skip` (their backup schedules
 * could not be computed) are left out: reconcile leaves their schedules as they are. */
export function desiredDrillSchedules(
  inventory: Inventory,
  skip: ReadonlySet<string> = new Set(),
  taskQueue = controlTaskQueue,
): DesiredSchedule[] {
  const schedules: DesiredSchedule[] = [];
  for (const host of Object.keys(inventory.hosts).sort()) {
    if (skip.has(host)) continue;
    let servers: string[];
    let enabled: boolean;
    try {
      servers = [...resolveHost(inventory, host).servers].sort();
      enabled = resolveSchedule(inventory, host).enabled;
    } catch {
      continue;
    }
    for (const server of servers) {
      const verify = resolveVerify(inventory, host, server);
      if (!verify) continue;
      const everyMinutes = Math.max(1, Math.floor(verify.everyMs / 60_000));
      const timing: BackupTiming = {
        calendars: [],
        intervals: [{ everyMs: verify.everyMs, offsetMs: (stableHash(`${host}@${server}`) % everyMinutes) * 60_000 }],
        cron: [],
        skip: [],
        jitterMs: 0,
        timezone: 'UTC',
        catchupWindowMs: Math.min(verify.everyMs, 3_600_000),
        enabled,
        summary: `drill every ${verify.every}, ${verify.sample} files`,
      };
      const input: RestoreDrillInput = { host, server };
      schedules.push(
        buildSchedule({
          kind: 'verify',
          scheduleId: drillScheduleId(host, server),
          host,
          server,
          timing,
          workflowType: 'restoreDrill',
          workflowId: drillWorkflowId(host, server),
          args: [input],
          taskQueue,
        }),
      );
    }
  }
  return schedules;
}

/** The syncInventory schedule (default every 15m); undefined when `sync.enabled: false`. */
export function desiredSyncSchedule(inventory: Inventory, taskQueue = controlTaskQueue): DesiredSchedule | undefined {
  if (inventory.sync?.enabled === false) return undefined;
  const everyMs = parseDuration(inventory.sync?.every ?? '15m') ?? 900_000;
  const timing: BackupTiming = {
    calendars: [],
    intervals: [{ everyMs, offsetMs: 0 }],
    cron: [],
    skip: [],
    jitterMs: 0,
    timezone: 'UTC',
    catchupWindowMs: Math.max(everyMs, 60_000),
    enabled: true,
    summary: `every ${shortDuration(everyMs)}`,
  };
  const scheduleId = syncScheduleId(taskQueue);
  return buildSchedule({
    kind: 'sync',
    scheduleId,
    timing,
    workflowType: 'syncInventory',
    workflowId: scheduleId.replace(/^tidemark:/, ''),
    args: [{}],
    taskQueue,
  });
}

function buildSchedule(parts: {
  kind: 'backup' | 'sync' | 'verify';
  scheduleId: string;
  host?: string;
  server?: string;
  timing: BackupTiming;
  workflowType: string;
  workflowId: string;
  args: unknown[];
  taskQueue: string;
}): DesiredSchedule {
  const spec = temporalSpec(parts.timing);
  const policies = { overlap: 'SKIP' as const, catchupWindow: parts.timing.catchupWindowMs, pauseOnFailure: false };
  const action = {
    workflowType: parts.workflowType,
    workflowId: parts.workflowId,
    taskQueue: parts.taskQueue,
    args: parts.args,
  };
  const hash = specHash({ v: 1, spec, policies, action, enabled: parts.timing.enabled });
  const actionMemo: ActionMemo = { specHash: hash, summary: parts.timing.summary, enabled: parts.timing.enabled };
  const ownerMemo: OwnerMemo = {
    owner: 'tidemark',
    kind: parts.kind,
    ...(parts.host ? { host: parts.host } : {}),
    ...(parts.server ? { server: parts.server } : {}),
  };
  return {
    scheduleId: parts.scheduleId,
    kind: parts.kind,
    ...(parts.host ? { host: parts.host } : {}),
    ...(parts.server ? { server: parts.server } : {}),
    options: {
      scheduleId: parts.scheduleId,
      spec,
      action: { type: 'startWorkflow', ...action, memo: { [memoKey]: actionMemo } },
      policies,
      memo: { [memoKey]: ownerMemo },
    },
    hash,
    summary: parts.timing.summary,
    enabled: parts.timing.enabled,
  };
}
