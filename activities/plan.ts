// Step 1, on the backup server: read this server's inventory and fix what the backup will do.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ApplicationFailure, log } from '@temporalio/activity';
import type { BackupInput, BackupPlan } from '../domain/backup.js';
import { TidemarkError } from '../domain/errors.js';
import { keepReasonProblem } from '../domain/keep.js';
import { keptInventory } from '../inventory/kept-inventory.js';
import type { Inventory } from '../inventory/schema.js';
import { inventoryWithHosts } from '../inventory/host-lookup.js';
import { NetboxAnswerTooOld } from '../inventory/netbox-reading.js';
import { resolveServerHooks } from '../inventory/resolve.js';
import {
  resolveGuards,
  resolveHost,
  resolveReserve,
  resolveServer,
  resolveSchedule,
  resolveSsh,
  type ResolvedHost,
  type SshSettings,
} from '../inventory/resolve.js';
import { intervalMs } from '../inventory/inventory-checks.js';
import { isChecksumRun } from '../domain/rsync-options.js';
import { noteSecretVariables } from '../subprocess/environment.js';
import { replicaRetention, replicaTargets, replicationSource, resolveReplication } from '../inventory/replication.js';
import { controlDirProblem, defaultControlDir } from './ssh-control-dir.js';
import { hostDataset } from '../domain/names.js';
import type { BlackoutSettings } from '../domain/blackout-retry.js';

/** What a backupHost input may hold: names and run options, never configuration. */
const runInputFields = new Set(['host', 'server', 'keep', 'allowShrink']);

/** Whether this run is the host's periodic --checksum run (transfer.checksumEvery; one schedule interval,
 * a day for cron schedules, in each period, at an offset fixed by the host's name). */
function checksumRunDue(inventory: Inventory, host: string, everyMs: number | undefined, now = new Date()): boolean {
  if (!everyMs) return false;
  const interval = intervalMs(resolveSchedule(inventory, host).schedule) ?? 86_400_000;
  return isChecksumRun(host, everyMs, interval, now);
}

/** Builds the plan from the inventory file as it is now (edits apply without restarting workers). */
export async function planBackup(inventoryPath: string, input: BackupInput): Promise<BackupPlan> {
  return (await planBackupWithWarnings(inventoryPath, input)).plan;
}

/** The plan, and what the run must end WARNING about: the inventory file invalid (the plan then comes from
 * the last inventory this worker validated, activities/kept-inventory.ts). */
export async function planBackupWithWarnings(
  inventoryPath: string,
  input: BackupInput,
): Promise<{ plan: BackupPlan; warnings: string[] }> {
  try {
    const keepProblem = input.keep === undefined ? undefined : keepReasonProblem(input.keep);
    if (keepProblem) throw new TidemarkError('USAGE', `--keep: ${keepProblem}`);
    const unexpected = Object.keys(input).filter((field) => !runInputFields.has(field));
    if (unexpected.length > 0) {
      throw new TidemarkError(
        'USAGE',
        `backupHost input: unexpected field${unexpected.length === 1 ? '' : 's'} ${unexpected.map((field) => JSON.stringify(field)).join(', ')}; ` +
          `a run carries only ${[...runInputFields].join(', ')}: its plan comes from this backup server's own inventory`,
      );
    }
    const kept = await keptInventory(inventoryPath).read();
    for (const warning of kept.warnings) log.warn(warning);
    const { inventory, warnings: netboxWarnings } = await inventoryWithHosts(kept.inventory, [input.host], {
      server: input.server,
    });
    noteSecretVariables(inventory);
    const host = resolveHost(inventory, input.host);
    const { dataset, adopt } = resolveServer(inventory, host, input.server);
    const plan: BackupPlan = {
      host: host.host,
      server: input.server,
      dataset: hostDataset(dataset, host.host),
      source: { address: host.address, port: host.port, user: host.user, sudo: host.sudo },
      paths: host.paths,
      excludes: host.excludes,
      ssh: await sshForRun(resolveSsh(inventory), host.host, undefined, host.jumpHost),
      transfer: {
        ...host.transfer,
        ...(checksumRunDue(inventory, host.host, host.transfer.checksumEveryMs) ? { checksumRun: true } : {}),
        ...blackoutOf(inventory, host.host),
      },
      hostSteps: { ...host.hostSteps, server: resolveServerHooks(inventory, input.server) },
      ...(host.include ? { include: host.include } : {}),
      guards: resolveGuards(inventory, host.host),
      reserve: resolveReserve(inventory, input.server),
      ...(host.quota ? { quota: host.quota } : {}),
      ...(input.allowShrink ? { allowShrink: true } : {}),
      // The server's own zone is the policy's default; workflow code cannot read it.
      // A replication target's own retention (servers.<name>.replication.retention) also after a failover pull.
      retention: { policy: replicaRetention(inventory, host.host, input.server), adopt },
      ...replicas(replicaTargets(inventory, host.host, input.server)),
      ...replicaOf(inventory, host.host, input.server),
    };
    // Another host's broken entry is that host's problem (logged above); an invalid file concerns every run.
    // The kept NetBox answer standing in for NetBox ends the run WARNING too: monitoring hears of the outage.
    return {
      plan,
      warnings: [
        ...kept.warnings.filter((warning) => warning.startsWith('inventory invalid since')),
        ...netboxWarnings,
      ],
    };
  } catch (error) {
    // A broken inventory will not fix itself by retrying: fail at once with the field-naming message.
    if (error instanceof TidemarkError) throw ApplicationFailure.nonRetryable(error.message, error.code);
    // NetBox down past netbox.maxCacheAge: retrying within the run will not bring it back.
    if (error instanceof NetboxAnswerTooOld) throw ApplicationFailure.nonRetryable(error.message, 'NETBOX_UNAVAILABLE');
    throw error;
  }
}

/** Absent without targets: plans of hosts nobody replicates stay as they were. */
function replicas(targets: string[]): Pick<BackupPlan, 'replicaTargets'> {
  return targets.length > 0 ? { replicaTargets: targets } : {};
}

/** On a replication target: where the copy comes from and when to pull directly instead. */
function replicaOf(inventory: Inventory, host: string, server: string): Pick<BackupPlan, 'replica'> {
  const source = replicationSource(inventory, host, server);
  if (source === undefined) return {};
  const { failoverAfterMs } = resolveReplication(inventory, { host, source, target: server });
  return { replica: { source, failoverAfterMs } };
}

/** The run's ssh settings, the host's key looked up under `hostKeyAlias` (its name): with multiplexing, a fresh control socket path in a private folder; when the
 * folder is not safe to use, the run goes without multiplexing and `warn` says why. */
export async function sshForRun(
  settings: SshSettings,
  hostKeyAlias: string,
  warn: (message: string) => void = (message) => log.warn(message),
  jumpHost?: ResolvedHost['jumpHost'],
): Promise<BackupPlan['ssh']> {
  const ssh = {
    identityFile: settings.identityFile,
    knownHostsFile: settings.knownHostsFile,
    hostKeyAlias,
    ...(jumpHost
      ? { jumpHost: { ...jumpHost, knownHostsFile: jumpHost.knownHostsFile ?? settings.knownHostsFile } }
      : {}),
  };
  if (!settings.multiplex) return ssh;
  const dir = settings.controlDir ?? defaultControlDir();
  const problem = await controlDirProblem(dir);
  if (problem) {
    warn(
      `ssh control folder ${dir} (ssh.controlDir): ${problem}. This run logs in once per step instead of sharing one ssh connection.`,
    );
    return ssh;
  }
  return { ...ssh, controlPath: join(dir, randomBytes(8).toString('hex')) };
}

/** The host's blackout windows for its retries; nothing when it has none. */
function blackoutOf(inventory: Inventory, host: string): { blackout?: BlackoutSettings } {
  const { blackout, timezone } = resolveSchedule(inventory, host);
  return blackout.length > 0 ? { blackout: { windows: blackout, timeZone: timezone } } : {};
}
