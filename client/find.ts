// `tidemark find PATTERN --host H`: entries whose name matches a glob in each of the host's snapshots on this
// backup server (like `restic find`), found by pool/snapshot-find.ts.
import { ExitCode } from '../domain/errors.js';
import type { Inventory } from '../inventory/schema.js';
import { findArguments, findInSnapshots } from '../pool/snapshot-find.js';
import { formatBytes } from '../domain/bytes.js';
import { backedUpTarget } from './local-target.js';

export { findArguments, parseFound, type FindReport, type FoundEntry } from '../pool/snapshot-find.js';

export async function findFiles(
  inventory: Inventory,
  options: { host: string; server?: string; pattern: string; ignoreCase?: boolean; json?: boolean },
): Promise<ExitCode> {
  findArguments('/', options.pattern, false);
  const target = await backedUpTarget(inventory, options.host, options.server);
  const report = await findInSnapshots(target, options.pattern, options.ignoreCase ?? false);
  if (options.json) {
    console.log(JSON.stringify(report, null, 2));
    return ExitCode.ok;
  }
  console.log(`"${options.pattern}" in ${target.dataset} (${target.host} on ${target.server})`);
  if (report.snapshots.length === 0) console.log(`no match in any of its ${report.searched} snapshots`);
  for (const found of report.snapshots) {
    console.log(`${found.snapshot} (${found.takenAt.replace(/\.\d{3}Z$/, 'Z')}):`);
    for (const entry of found.matches)
      console.log(
        `  ${entry.type.padEnd(7)} ${(entry.type === 'file' ? formatBytes(entry.size) : '-').padStart(6)}  ${entry.mtime.replace(/\.\d{3}Z$/, 'Z')}  ${entry.pathHex !== undefined ? `${JSON.stringify(entry.path)} (hex ${entry.pathHex})` : entry.path}`,
      );
  }
  return ExitCode.ok;
}
