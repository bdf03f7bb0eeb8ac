// `tidemark snapshots --host vpn [--server S] [--json]`: the host's snapshots on this backup server, with
// time, size, kind and the retention rule keeping each one (or that the next prune removes it).
// Runs on the backup server itself: it reads the pool with zfs, not through Temporal.
import { snapshotReport } from '../pool/snapshot-report.js';
import { ExitCode } from '../domain/errors.js';
import type { Inventory } from '../inventory/schema.js';
import { localTarget } from './local-target.js';
import { describePolicy, formatTable } from './snapshot-table.js';

export async function showSnapshots(
  inventory: Inventory,
  options: { host: string; server?: string; json?: boolean },
): Promise<ExitCode> {
  const target = await localTarget(inventory, options.host, options.server);
  const { report } = await snapshotReport(target);
  if (options.json) {
    console.log(JSON.stringify(report, null, 2));
    return ExitCode.ok;
  }
  console.log(
    `${report.dataset} (${report.host} on ${report.server}), policy ${describePolicy(report.policy, report.adopt, report.anomalyCap)}`,
  );
  if (!report.exists) console.log('no backup yet: the dataset does not exist');
  else if (report.snapshots.length === 0) console.log('no snapshots');
  else console.log(formatTable(report.snapshots, report.policy.timeZone));
  return ExitCode.ok;
}
