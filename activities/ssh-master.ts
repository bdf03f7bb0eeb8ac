// The run's shared ssh connection (see multiplexing in domain/rsync-args.ts): opened early so the login
// overlaps the pool's work, closed by the transfer, its last user.
import type { BackupPlan } from '../domain/backup.js';
import { closeMasterCommand, openMasterCommand } from '../domain/rsync-args.js';
import { startChild } from '../subprocess/runner.js';

/** How long the dataset step waits for the login at most; a slower host is left to the probe. */
const openWaitMs = 15_000;

/** Logs in to the host and leaves the master running. Never throws: a host that cannot be reached is the
 * probe's to report (with ssh's own error and the retry rule for it), not the dataset step's. */
export async function openSshMaster(plan: Pick<BackupPlan, 'ssh' | 'source'>): Promise<void> {
  await runSsh(openMasterCommand(plan), openWaitMs);
}

/** rsync was the attempt's last use of its ssh connection: close it now rather than when it times out. */
export async function closeSshMaster(plan: Pick<BackupPlan, 'ssh' | 'source'>): Promise<void> {
  await runSsh(closeMasterCommand(plan), 5_000);
}

async function runSsh(command: string[] | undefined, timeoutMs: number): Promise<void> {
  if (!command) return;
  // Nothing to read, and no pipe for the backgrounded master to hold open. Not under setpriv's
  // --pdeathsig alone: the master is meant to outlive this call (ControlPersist), not the worker.
  await startChild('ssh', command.slice(1), { stdio: 'ignore', timeoutMs }).result;
}
