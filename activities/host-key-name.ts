// Before a run's first ssh to a machine: its known_hosts entry under its name (subprocess/known-hosts.ts),
// copied from its address entry if it has none. A file that cannot take it fails the step, naming the
// file and the lines; nothing else about the host is decided here (ssh itself checks the key).
import type { BackupPlan } from '../domain/backup.js';
import { activityFailure } from '../domain/failures.js';
import { adoptAddressKeys } from '../subprocess/known-hosts.js';

export async function hostKeyUnderName(
  plan: Pick<BackupPlan, 'ssh' | 'source'>,
  say: (message: string) => void,
): Promise<void> {
  try {
    await adoptAddressKeys(
      {
        knownHostsFile: plan.ssh.knownHostsFile,
        alias: plan.ssh.hostKeyAlias,
        address: plan.source.address,
        port: plan.source.port,
      },
      say,
    );
  } catch (error) {
    throw activityFailure((error as Error).message, 'KnownHostsUnwritable');
  }
}
