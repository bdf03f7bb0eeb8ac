// `tidemark status [--host H] [--server S] [--stale DURATION] [--json] [--nagios]`: the last run and the
// last success of every (host, server) pair of the inventory, read from Temporal visibility (the runs'
// search attributes), so it works from any machine with the inventory. Exit code in Nagios terms.
// On a backup server it also lists the host datasets there that no pair backs up any more (orphans,
// decommissioned); they are listed only and never change the exit code.
import { formatDuration, parseDuration } from '../domain/duration.js';
import { TidemarkError } from '../domain/errors.js';
import type { Inventory } from '../inventory/schema.js';
import { resolveHost } from '../inventory/resolve.js';
import { resolveTemporal } from '../temporal/settings.js';
import { loadHostSources } from '../inventory/sources.js';
import { connectClient } from '../temporal/connection.js';
import { hostServerPairs } from '../fleet/pairs.js';
import { collectFleetStatus } from '../fleet/status.js';
import { fleetVerdict, nagiosLine, verdictExitCode, type PairStatus } from '../fleet/verdict.js';
import { describeReplica } from '../fleet/replica-verdict.js';
import { findLeftovers, type LeftoverDataset, type Leftovers } from './leftovers.js';
import { formatBytes } from '../domain/bytes.js';
import { hostsOfGroup } from '../inventory/groups.js';

export interface StatusOptions {
  host?: string;
  server?: string;
  /** Only the hosts of this group (`groups:`). */
  group?: string;
  stale?: string;
  json: boolean;
  nagios: boolean;
}

export async function fleetStatus(inventory: Inventory, options: StatusOptions): Promise<number> {
  const staleMs = options.stale === undefined ? undefined : parseDuration(options.stale);
  if (options.stale !== undefined && !staleMs)
    throw new TidemarkError('USAGE', `--stale: "${options.stale}" is not a duration; write e.g. 36h, 2d or 90m`);
  const { inventory: merged, outage } = await loadHostSources(inventory, process.env, { useKept: true });
  for (const line of outage ?? []) console.error(`tidemark: WARNING: ${line}`);
  const host = options.host === undefined ? undefined : resolveHost(merged, options.host).host;
  const inGroup = options.group === undefined ? undefined : hostsOfGroup(merged, options.group);
  const pairs = hostServerPairs(merged, options.server).filter(
    (pair) => (host === undefined || pair.host === host) && (inGroup === undefined || inGroup.has(pair.host)),
  );
  if (pairs.length === 0)
    throw new TidemarkError(
      'USAGE',
      inGroup === undefined
        ? `--host ${options.host} is not backed up on --server ${options.server}`
        : `--group ${options.group}: no host of this group${options.host ? ` is ${options.host}` : ''}${options.server ? ` backed up on ${options.server}` : ''}`,
    );

  const client = await connectClient(resolveTemporal(merged));
  let rows: PairStatus[];
  try {
    const found = await collectFleetStatus(client, merged, pairs, {
      ...(staleMs ? { staleMs } : {}),
      ...(options.server !== undefined ? { server: options.server } : {}),
    });
    rows = found.map((row) => row.status);
  } finally {
    await client.connection.close();
  }
  if (options.nagios) {
    console.log(nagiosLine(rows, staleMs));
    return verdictExitCode[fleetVerdict(rows)];
  }
  const leftovers = await localLeftovers(merged, options.server, host);
  if (options.json) console.log(JSON.stringify([...rows, ...leftoverRows(leftovers)], null, 2));
  else console.log([statusTable(rows), ...leftoverTables(leftovers)].join('\n\n'));
  return verdictExitCode[fleetVerdict(rows)];
}

/** Leftover datasets as rows of the same array as the pairs (scripts read one list): lastStatus says which. */
function leftoverRows(leftovers: Leftovers) {
  const row = (entry: Leftovers['orphans'][number], lastStatus: 'ORPHAN' | 'DECOMMISSIONED') => ({
    ...entry,
    lastStatus,
    lastRunAt: null,
    lastSuccessAt: null,
  });
  return [
    ...leftovers.orphans.map((entry) => row(entry, 'ORPHAN')),
    ...leftovers.decommissioned.map((entry) => row(entry, 'DECOMMISSIONED')),
  ];
}

/** Leftover datasets of the inventory's servers (or `server`) on this machine; of `host` only when given. */
async function localLeftovers(
  inventory: Inventory,
  server: string | undefined,
  host: string | undefined,
): Promise<Leftovers> {
  const servers = Object.fromEntries(
    Object.entries(inventory.servers)
      .filter(([name]) => server === undefined || name === server)
      .map(([name, entry]) => [name, entry.dataset]),
  );
  let found: Leftovers;
  try {
    found = await findLeftovers(servers, hostServerPairs(inventory));
  } catch (error) {
    // The fleet's runs are the point of status: a pool that cannot be read is said, not fatal.
    console.error(`tidemark: WARNING: could not list this machine's host datasets: ${(error as Error).message}`);
    return { orphans: [], decommissioned: [] };
  }
  const mine = (entry: LeftoverDataset) => host === undefined || entry.host === host;
  return { orphans: found.orphans.filter(mine), decommissioned: found.decommissioned.filter(mine) };
}

/** The orphan and decommissioned sections of the text output (none when empty). */
export function leftoverTables(leftovers: Leftovers): string[] {
  const sections: string[] = [];
  const section = (title: string, entries: LeftoverDataset[], last: (entry: LeftoverDataset) => string) => {
    if (entries.length === 0) return;
    const table = [
      ['HOST', 'SERVER', 'DATASET', 'LAST SNAPSHOT', 'SIZE', last === orphanHint ? 'NOTE' : 'DECOMMISSIONED'],
    ];
    for (const entry of entries) {
      table.push([
        entry.host,
        entry.server,
        entry.dataset,
        entry.lastSnapshot ?? 'none',
        formatBytes(entry.bytes),
        last(entry),
      ]);
    }
    const widths = table[0]!.map((_, column) => Math.max(...table.map((line) => line[column]!.length)));
    sections.push(
      `${title}\n${table.map((line) => line.map((cell, column) => (column === line.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  ')).join('\n')}`,
    );
  };
  section('ORPHANS (host datasets here that no inventory host is backed up into)', leftovers.orphans, orphanHint);
  section('DECOMMISSIONED', leftovers.decommissioned, (entry) => entry.decommissionedAt ?? '');
  return sections;
}

function orphanHint(entry: LeftoverDataset): string {
  return `"tidemark decommission --host ${entry.host} --server ${entry.server}" keeps it on purpose`;
}

export function statusTable(rows: PairStatus[]): string {
  const local = new Intl.DateTimeFormat('sv-SE', { dateStyle: 'short', timeStyle: 'short' });
  // The REPLICA column only when a pair takes its copy by replication (fleet/replica-verdict.ts).
  const replicas = rows.some((row) => row.replica);
  const table = [
    [
      'HOST',
      'SERVER',
      'LAST RUN',
      'STARTED',
      'TOOK',
      'BYTES',
      'LAST SUCCESS',
      'AGE',
      ...(replicas ? ['REPLICA'] : []),
      'VERDICT',
    ],
  ];
  for (const row of rows) {
    table.push([
      row.host,
      row.server,
      row.lastStatus ?? 'never run',
      row.lastRunAt ? local.format(new Date(row.lastRunAt)) : '-',
      row.lastRunDurationMs === null ? '-' : formatDuration(row.lastRunDurationMs),
      row.lastRunBytes === null ? '-' : formatBytes(row.lastRunBytes),
      row.lastSuccessAt ? local.format(new Date(row.lastSuccessAt)) : 'never',
      row.lastSuccessAgeMs === null ? '-' : formatDuration(row.lastSuccessAgeMs, { days: true }),
      ...(replicas ? [row.replica ? describeReplica(row.replica) : '-'] : []),
      row.verdict === 'OK' ? 'OK' : `${row.verdict}: ${row.reasons.join('; ')}`,
    ]);
  }
  const widths = table[0]!.map((_, column) => Math.max(...table.map((line) => line[column]!.length)));
  return table
    .map((line) =>
      line.map((cell, column) => (column === line.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  '),
    )
    .join('\n');
}
