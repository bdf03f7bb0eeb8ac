// `tidemark prune --host vpn [--server S] [--dry-run] [--json]`: apply the host's retention policy now, on
// this backup server. --dry-run shows the plan only. The destroy path is the workflow's own (the same
// fresh safety checks per snapshot), so a manual prune is never less careful than a scheduled one.
import { destroyPlanned, type PruneResult } from '../pool/prune.js';
import { ExitCode } from '../domain/errors.js';
import type { Inventory } from '../inventory/schema.js';
import { snapshotReport, type SnapshotReport } from '../pool/snapshot-report.js';
import { localTarget } from './local-target.js';
import { describePolicy, formatTable } from './snapshot-table.js';

export interface PruneOptions {
  host: string;
  server?: string;
  dryRun?: boolean;
  json?: boolean;
}

export interface PruneReport extends SnapshotReport {
  dryRun: boolean;
  /** Names the plan destroys, oldest first. */
  destroy: string[];
  /** Absent in a dry run. */
  result?: PruneResult;
}

/** Exit 0 when everything planned is gone (or on a dry run), 1 when the safety check or zfs kept some. */
export async function pruneNow(inventory: Inventory, options: PruneOptions): Promise<ExitCode> {
  const target = await localTarget(inventory, options.host, options.server);
  const { report, plan } = await snapshotReport(target);
  const dryRun = options.dryRun ?? false;
  const output: PruneReport = { ...report, dryRun, destroy: plan.destroy };
  if (!dryRun && plan.destroy.length > 0) {
    output.result = await destroyPlanned({
      dataset: target.dataset,
      plan,
      safety: {
        timeZone: target.policy.timeZone,
        // As the plan read them: another system's names only once the dataset is adopted.
        adopt: report.adopt,
        backupSucceeded: true,
        anomalyCap: target.anomalyCap,
      },
    });
  }
  const refused = output.result?.refused ?? [];

  if (options.json) {
    console.log(JSON.stringify(output, null, 2));
    return refused.length > 0 ? ExitCode.backupFailed : ExitCode.ok;
  }
  console.log(
    `${report.dataset} (${report.host} on ${report.server}), policy ${describePolicy(report.policy, report.adopt, report.anomalyCap)}`,
  );
  if (report.snapshots.length > 0) console.log(formatTable(report.snapshots, report.policy.timeZone));
  if (plan.destroy.length === 0) {
    console.log('nothing to prune');
  } else if (dryRun) {
    console.log(
      `dry run: would destroy ${plan.destroy.length} of ${report.snapshots.length} snapshots: ${plan.destroy.join(' ')}`,
    );
  } else {
    const { destroyed, alreadyGone } = output.result!;
    console.log(`destroyed ${destroyed.length} snapshots${destroyed.length > 0 ? `: ${destroyed.join(' ')}` : ''}`);
    if (alreadyGone.length > 0) console.log(`already gone: ${alreadyGone.join(' ')}`);
    for (const { name, reasons } of refused) console.error(`kept ${name}: ${reasons.join(', ')}`);
  }
  return refused.length > 0 ? ExitCode.backupFailed : ExitCode.ok;
}
