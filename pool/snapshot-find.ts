// Entries whose name (or, with a "/", whole path) matches a glob in each of a host's snapshots: `tidemark
// find` on the backup server, and the console's find through the server's worker. The matching is GNU find's
// own (`-name`/`-path`, fnmatch), run with an argument array inside a read-only view of each snapshot; it never
// follows the host's symlinks (`-P`).
import { execa } from 'execa';
import { TidemarkError } from '../domain/errors.js';
import type { LocalTarget } from '../domain/host-target.js';
import { classifySnapshot } from '../domain/retention.js';
import { withSnapshotView } from './snapshot-reader.js';
import { listSnapshots } from './zfs.js';

export interface FoundEntry {
  /** Absolute path as on the host (invalid UTF-8 bytes replaced; see pathHex). */
  path: string;
  /** The path's bytes in hex, only when they are not valid UTF-8. */
  pathHex?: string;
  type: 'file' | 'dir' | 'symlink' | 'other';
  size: number;
  /** ISO 8601 UTC. */
  mtime: string;
}

export interface FindReport {
  host: string;
  server: string;
  dataset: string;
  pattern: string;
  /** Snapshots with at least one match, oldest first. */
  snapshots: Array<{ snapshot: string; takenAt: string; matches: FoundEntry[] }>;
  /** How many snapshots were searched. */
  searched: number;
}

/** A pattern with a "/" matches the whole path from the host's root (`-path`), else the name (`-name`). */
export function findArguments(root: string, pattern: string, ignoreCase: boolean): string[] {
  if (pattern === '' || pattern.includes('\0'))
    throw new TidemarkError('USAGE', 'PATTERN: give a glob such as "*.conf" or "/etc/*/nginx.conf"');
  const byPath = pattern.includes('/');
  const test = byPath ? (ignoreCase ? '-ipath' : '-path') : ignoreCase ? '-iname' : '-name';
  // find prints paths starting with the view's root: anchor a path pattern there.
  const value = byPath ? `${root}${pattern.startsWith('/') ? '' : '/'}${pattern}` : pattern;
  return ['-P', root, '-mindepth', '1', test, value, '-printf', '%y\\t%s\\t%T@\\t%P\\0'];
}

export function parseFound(output: Buffer): FoundEntry[] {
  const entries: FoundEntry[] = [];
  let start = 0;
  for (let end = output.indexOf(0, start); end !== -1; start = end + 1, end = output.indexOf(0, start)) {
    const record = output.subarray(start, end);
    const fields: Buffer[] = [];
    let from = 0;
    for (let column = 0; column < 3; column++) {
      const tab = record.indexOf(9, from);
      fields.push(record.subarray(from, tab));
      from = tab + 1;
    }
    const raw = Buffer.concat([Buffer.from('/'), record.subarray(from)]);
    const path = raw.toString('utf8');
    const kind = fields[0]!.toString();
    entries.push({
      path,
      ...(Buffer.from(path).equals(raw) ? {} : { pathHex: raw.toString('hex') }),
      type: kind === 'f' ? 'file' : kind === 'd' ? 'dir' : kind === 'l' ? 'symlink' : 'other',
      size: Number(fields[1]!.toString()),
      mtime: new Date(Number(fields[2]!.toString()) * 1000).toISOString(),
    });
  }
  return entries.sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
}

/** Searches every snapshot of the target's dataset, oldest first; `reader` names the views (withSnapshotView). */
export async function findInSnapshots(
  target: Pick<LocalTarget, 'host' | 'server' | 'dataset' | 'policy' | 'adopt'>,
  pattern: string,
  ignoreCase: boolean,
  reader?: string,
): Promise<FindReport> {
  findArguments('/', pattern, ignoreCase);
  const snapshots = await listSnapshots(target.dataset);
  const report: FindReport = {
    host: target.host,
    server: target.server,
    dataset: target.dataset,
    pattern,
    snapshots: [],
    searched: snapshots.length,
  };
  for (const snapshot of snapshots) {
    const matches = await withSnapshotView(
      target.dataset,
      snapshot.name,
      async (root) => {
        const found = await execa('find', findArguments(root, pattern, ignoreCase), {
          encoding: 'buffer',
          reject: false,
        });
        // find exits 1 when a directory could not be read, having printed the rest: keep what it found.
        if (found.exitCode !== 0 && found.stdout.length === 0 && found.stderr.length > 0)
          throw new Error(`find in ${target.dataset}@${snapshot.name}: ${found.stderr.toString().trim()}`);
        return parseFound(Buffer.from(found.stdout));
      },
      reader,
    );
    if (matches.length === 0) continue;
    const read = classifySnapshot(snapshot, target.policy.timeZone, target.adopt);
    report.snapshots.push({ snapshot: snapshot.name, takenAt: new Date(read.takenAt).toISOString(), matches });
  }
  return report;
}
