// `tidemark report [--month YYYY-MM] [--group G] [--server S] [--json|--csv]`: per host and group the month's
// runs and failures (from Temporal), the last success up to the month's end, and the sizes on this backup
// server's pool (used and referenced now, snapshot count now, growth over the month from the snapshots'
// referenced bytes). Pairs whose dataset is not on this machine show no sizes.
import { rename, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Client } from '@temporalio/client';
import { ExitCode, TidemarkError } from '../domain/errors.js';
import { hostAttribute, serverAttribute } from '../domain/search-attributes.js';
import { resolveServer, resolveHost } from '../inventory/resolve.js';
import { resolveTemporal } from '../temporal/settings.js';
import type { Inventory } from '../inventory/schema.js';
import { loadHostSources } from '../inventory/sources.js';
import { connectClient } from '../temporal/connection.js';
import { getExisting, getOneLevel } from '../pool/zfs.js';
import { hostServerPairs } from '../fleet/pairs.js';
import { formatBytes } from '../domain/bytes.js';
import { quote, runRecord } from '../fleet/status.js';

export interface ReportRow {
  month: string;
  group: string;
  host: string;
  server: string;
  runs: number;
  failures: number;
  /** ISO 8601 start of the newest SUCCESS up to the month's end; null when none. */
  lastSuccess: string | null;
  /** The dataset's `used` and `referenced` now (bytes); null when its dataset is not on this machine. */
  usedBytes: number | null;
  referencedBytes: number | null;
  snapshots: number | null;
  /** Referenced bytes of the newest snapshot taken by the month's end minus that of the newest before it
   * began (0 before); null without snapshots in reach. */
  growthBytes: number | null;
}

export interface GroupTotal {
  group: string;
  hosts: number;
  runs: number;
  failures: number;
  usedBytes: number;
  referencedBytes: number;
  growthBytes: number;
}

/** Hosts without a group are reported under this name. */
export const noGroup = '(none)';

/** A host's group. Read through here only: `groups:` land in the inventory separately (a host's `group`). */
export function groupOf(host: unknown): string {
  const group = (host as { group?: unknown } | undefined)?.group;
  return typeof group === 'string' && group !== '' ? group : noGroup;
}

/** `YYYY-MM` → [first instant, first instant of the next month) in UTC; default the current month. */
export function monthRange(month: string | undefined, now = new Date()): { month: string; start: Date; end: Date } {
  const text = month ?? now.toISOString().slice(0, 7);
  const match = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(text);
  if (!match) throw new TidemarkError('USAGE', `--month: "${text}" is not a month; write e.g. 2026-11`);
  const [year, index] = [Number(match[1]), Number(match[2]) - 1];
  return { month: text, start: new Date(Date.UTC(year, index, 1)), end: new Date(Date.UTC(year, index + 1, 1)) };
}

export async function monthlyReport(
  inventory: Inventory,
  options: { month?: string; group?: string; server?: string },
): Promise<{ rows: ReportRow[]; groups: GroupTotal[] }> {
  const { month, start, end } = monthRange(options.month);
  const { inventory: merged } = await loadHostSources(inventory);
  const pairs = hostServerPairs(merged, options.server)
    .map((pair) => ({ ...pair, group: groupOf(merged.hosts[pair.host]) }))
    .filter((pair) => options.group === undefined || pair.group === options.group);
  if (pairs.length === 0 && options.group !== undefined)
    throw new TidemarkError('USAGE', `--group: no host is in group "${options.group}"`);
  const client = await connectClient(resolveTemporal(merged));
  const rows: ReportRow[] = [];
  try {
    const runs = await runsBetween(client, start, end);
    for (const pair of pairs) {
      const key = `${pair.host}\t${pair.server}`;
      const mine = runs.get(key) ?? [];
      const success = mine.find((run) => run.status === 'SUCCESS') ?? (await lastSuccessBefore(client, pair, end));
      const dataset = `${resolveServer(merged, resolveHost(merged, pair.host), pair.server).dataset}/${pair.host}`;
      rows.push({
        month,
        group: pair.group,
        host: pair.host,
        server: pair.server,
        runs: mine.filter((run) => run.status !== 'RUNNING').length,
        failures: mine.filter((run) => run.status === 'FAILED').length,
        lastSuccess: success?.startedAt.toISOString() ?? null,
        ...(await sizes(dataset, start, end)),
      });
    }
  } finally {
    await client.connection.close();
  }
  return { rows, groups: groupTotals(rows) };
}

type Run = ReturnType<typeof runRecord>;

/** Every backupHost run started in [start, end), newest first, by "host\tserver" (one visibility scan). */
async function runsBetween(client: Client, start: Date, end: Date): Promise<Map<string, Run[]>> {
  const query = `WorkflowType = 'backupHost' AND StartTime >= ${quote(start.toISOString())} AND StartTime < ${quote(end.toISOString())}`;
  const found = new Map<string, Run[]>();
  for await (const execution of client.workflow.list({ query, pageSize: 1000 })) {
    const host = execution.typedSearchAttributes.get(hostAttribute);
    const server = execution.typedSearchAttributes.get(serverAttribute);
    if (host === undefined || server === undefined) continue;
    const key = `${host}\t${server}`;
    found.set(key, [...(found.get(key) ?? []), runRecord(execution)]);
  }
  return found;
}

async function lastSuccessBefore(
  client: Client,
  pair: { host: string; server: string },
  end: Date,
): Promise<Run | undefined> {
  const query = `WorkflowType = 'backupHost' AND TidemarkHost = ${quote(pair.host)} AND TidemarkServer = ${quote(pair.server)} AND TidemarkStatus = 'SUCCESS' AND StartTime < ${quote(end.toISOString())}`;
  for await (const execution of client.workflow.list({ query, pageSize: 1 })) return runRecord(execution);
  return undefined;
}

type Sizes = Pick<ReportRow, 'usedBytes' | 'referencedBytes' | 'snapshots' | 'growthBytes'>;

/** The dataset's sizes as `zfs get -p` gives them; nulls when it is not on this machine. */
async function sizes(dataset: string, start: Date, end: Date): Promise<Sizes> {
  const own = await getExisting([dataset], ['used', 'referenced']);
  if (own.length === 0) return { usedBytes: null, referencedBytes: null, snapshots: null, growthBytes: null };
  const value = (property: string) => Number(own.find((row) => row.property === property)?.value);
  const snapshots = new Map<string, { createdAt: number; referenced: number }>();
  for (const { name, property, value: text } of await getOneLevel(dataset, ['creation', 'referenced'])) {
    if (!name.startsWith(`${dataset}@`)) continue;
    const entry = snapshots.get(name) ?? { createdAt: 0, referenced: 0 };
    if (property === 'creation') entry.createdAt = Number(text) * 1000;
    if (property === 'referenced') entry.referenced = Number(text);
    snapshots.set(name, entry);
  }
  const newestBefore = (limit: Date) =>
    [...snapshots.values()]
      .filter((entry) => entry.createdAt < limit.getTime())
      .sort((a, b) => a.createdAt - b.createdAt)
      .at(-1);
  const atEnd = newestBefore(end);
  const atStart = newestBefore(start);
  return {
    usedBytes: value('used'),
    referencedBytes: value('referenced'),
    snapshots: snapshots.size,
    growthBytes: atEnd === undefined ? null : atEnd.referenced - (atStart?.referenced ?? 0),
  };
}

function groupTotals(rows: ReportRow[]): GroupTotal[] {
  const totals = new Map<string, GroupTotal>();
  for (const row of rows) {
    const total = totals.get(row.group) ?? {
      group: row.group,
      hosts: 0,
      runs: 0,
      failures: 0,
      usedBytes: 0,
      referencedBytes: 0,
      growthBytes: 0,
    };
    total.hosts += 1;
    total.runs += row.runs;
    total.failures += row.failures;
    total.usedBytes += row.usedBytes ?? 0;
    total.referencedBytes += row.referencedBytes ?? 0;
    total.growthBytes += row.growthBytes ?? 0;
    totals.set(row.group, total);
  }
  return [...totals.values()].sort((a, b) => a.group.localeCompare(b.group));
}

const csvColumns = [
  'month',
  'group',
  'host',
  'server',
  'runs',
  'failures',
  'lastSuccess',
  'usedBytes',
  'referencedBytes',
  'snapshots',
  'growthBytes',
] as const satisfies readonly (keyof ReportRow)[];

/** RFC 4180: a header line, then one line per (host, server); empty cells for nulls. */
export function reportCsv(rows: ReportRow[]): string {
  const cell = (value: string | number | null) => {
    const text = value === null ? '' : String(value);
    return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  return (
    [csvColumns.join(','), ...rows.map((row) => csvColumns.map((column) => cell(row[column])).join(','))].join('\r\n') +
    '\r\n'
  );
}

export function reportTable(rows: ReportRow[], groups: GroupTotal[]): string {
  const size = (bytes: number | null) => (bytes === null ? '-' : formatBytes(bytes));
  const table = [
    ['GROUP', 'HOST', 'SERVER', 'RUNS', 'FAILED', 'LAST SUCCESS', 'USED', 'REFERENCED', 'SNAPSHOTS', 'GROWTH'],
  ];
  for (const row of rows)
    table.push([
      row.group,
      row.host,
      row.server,
      String(row.runs),
      String(row.failures),
      row.lastSuccess?.replace(/\.\d{3}Z$/, 'Z') ?? 'never',
      size(row.usedBytes),
      size(row.referencedBytes),
      row.snapshots === null ? '-' : String(row.snapshots),
      size(row.growthBytes),
    ]);
  for (const total of groups)
    table.push([
      total.group,
      `(${total.hosts} hosts)`,
      '',
      String(total.runs),
      String(total.failures),
      '',
      size(total.usedBytes),
      size(total.referencedBytes),
      '',
      size(total.growthBytes),
    ]);
  const widths = table[0]!.map((_, column) => Math.max(...table.map((line) => line[column]!.length)));
  return table
    .map((line) =>
      line
        .map((cell, column) => cell.padEnd(widths[column]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export async function showReport(
  inventory: Inventory,
  options: { month?: string; group?: string; server?: string; json?: boolean; csv?: boolean; output?: string },
): Promise<ExitCode> {
  if (options.json && options.csv) throw new TidemarkError('USAGE', '--json and --csv: choose one');
  const { rows, groups } = await monthlyReport(inventory, options);
  let text: string;
  if (options.csv) text = reportCsv(rows);
  else if (options.json) text = `${JSON.stringify({ hosts: rows, groups }, null, 2)}\n`;
  else text = `${reportTable(rows, groups)}\n`;
  if (options.output === undefined) process.stdout.write(text);
  else await writeWhole(options.output, text);
  return ExitCode.ok;
}

/** A billing export is read by other programs: they see the old file or the new one, never half of it. */
async function writeWhole(path: string, text: string): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    await writeFile(temporary, text, { flag: 'wx', mode: 0o640 });
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw new TidemarkError('USAGE', `--output: cannot write ${path}: ${(error as Error).message}`);
  }
}
