// `tidemark files` and `tidemark history`: what a snapshot holds, and which snapshots hold a path. They run
// on the backup server and read the pool directly (a read-only view per snapshot, always closed again).
// The web console's browser asks a server's worker for the same listing (pool/snapshot-files.ts).
export type { FileEntry, HistoryEntry, HistoryReport } from '../pool/snapshot-files.js';
import { ExitCode, TidemarkError } from '../domain/errors.js';
import { pickSnapshot, relativeRestorePath, restorePathProblem } from '../domain/restore.js';
import type { Inventory } from '../inventory/schema.js';
import { pathHistory, snapshotEntries, type FileEntry } from '../pool/snapshot-files.js';
import { listSnapshots } from '../pool/zfs.js';
import { formatBytes } from '../domain/bytes.js';
import { backedUpTarget } from './local-target.js';

function checkedPath(path: string): string {
  const problem = restorePathProblem(path);
  if (problem) throw new TidemarkError('USAGE', `PATH: ${problem}`);
  return relativeRestorePath(path);
}

export interface FilesReport {
  host: string;
  server: string;
  dataset: string;
  snapshot: string;
  path: string;
  /** The directory's entries by name, or the one entry when PATH is not a directory. */
  entries: FileEntry[];
}

export async function listFiles(
  inventory: Inventory,
  options: { host: string; server?: string; snapshot?: string; path: string; json?: boolean },
): Promise<ExitCode> {
  const relative = checkedPath(options.path);
  const target = await backedUpTarget(inventory, options.host, options.server);
  const picked = pickSnapshot(
    (await listSnapshots(target.dataset)).map((snapshot) => snapshot.name),
    options.snapshot !== undefined ? { snapshot: options.snapshot } : {},
  );
  if ('problem' in picked) throw new TidemarkError('USAGE', picked.problem);
  const entries = await snapshotEntries(target.dataset, picked.name, relative);
  if (!entries)
    throw new TidemarkError(
      'USAGE',
      `PATH: ${options.path} is not in snapshot ${picked.name} ("tidemark history --host ${target.host} ${options.path}" shows where it is)`,
    );
  const report: FilesReport = {
    host: target.host,
    server: target.server,
    dataset: target.dataset,
    snapshot: picked.name,
    path: options.path,
    entries,
  };
  if (options.json) {
    console.log(JSON.stringify(report, null, 2));
    return ExitCode.ok;
  }
  console.log(`${target.dataset}@${picked.name}:${options.path}`);
  const rows = entries.map((entry) => [
    entry.type,
    entry.mode,
    `${entry.uid}:${entry.gid}`,
    entry.type === 'file' ? formatBytes(entry.size) : '-',
    entry.mtime.replace(/\.\d{3}Z$/, 'Z'),
    displayName(entry),
  ]);
  console.log(columns([['TYPE', 'MODE', 'OWNER', 'SIZE', 'MTIME', 'NAME'], ...rows]));
  return ExitCode.ok;
}

function displayName(entry: FileEntry): string {
  const name = entry.nameHex !== undefined ? `${JSON.stringify(entry.name)} (hex ${entry.nameHex})` : entry.name;
  return entry.target !== undefined ? `${name} -> ${entry.target}` : name;
}

function columns(table: string[][]): string {
  const widths = table[0]!.map((_, column) => Math.max(...table.map((line) => line[column]!.length)));
  return table
    .map((line) =>
      line.map((cell, column) => (column === line.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  '),
    )
    .join('\n');
}

export async function fileHistory(
  inventory: Inventory,
  options: { host: string; server?: string; path: string; json?: boolean },
): Promise<ExitCode> {
  checkedPath(options.path);
  const target = await backedUpTarget(inventory, options.host, options.server);
  const report = await pathHistory(target, options.path);
  if (options.json) {
    console.log(JSON.stringify(report, null, 2));
    return ExitCode.ok;
  }
  console.log(`${options.path} in ${target.dataset} (${target.host} on ${target.server})`);
  if (report.snapshots.length === 0) {
    console.log(`not in any of its ${report.absentFrom.length} snapshots`);
    return ExitCode.ok;
  }
  const rows = report.snapshots.map((entry) => [
    entry.changed ? '*' : ' ',
    entry.snapshot,
    entry.label,
    entry.type,
    formatBytes(entry.size),
    entry.mtime.replace(/\.\d{3}Z$/, 'Z'),
    entry.mode,
  ]);
  console.log(columns([['', 'SNAPSHOT', 'KIND', 'TYPE', 'SIZE', 'MTIME', 'MODE'], ...rows]));
  console.log('* first seen, or size/mtime changed since the previous snapshot holding it');
  if (report.absentFrom.length > 0) console.log(`absent from: ${report.absentFrom.join(', ')}`);
  return ExitCode.ok;
}
