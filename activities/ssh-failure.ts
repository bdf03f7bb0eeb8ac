// ssh's own refusals, read from its stderr the same way for rsync's ssh and the probe's and hooks' ssh.
import type { ApplicationFailure } from '@temporalio/activity';
import { activityFailure } from '../domain/failures.js';
import type { BackupPlan } from '../domain/backup.js';

const hostKeyRejected = /Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|host key .* is not known/i;
/** ssh's "Permission denied (publickey,password)." names authentication methods; rsync's own
 * "Permission denied (13)" is a file error and must not read as a refused login. */
const loginRefused =
  /Permission denied \((?:publickey|password|keyboard-interactive|hostbased|gssapi-with-mic|gssapi-keyex)[a-z,-]*\)/;

/** A non-retryable failure for a rejected host key or a refused login; undefined for anything else.
 * `keyCommand`: what prints the lines for the name's key (a backed-up host's by default). */
export function sshRefusal(
  plan: Pick<BackupPlan, 'ssh' | 'source'>,
  stderr: string,
  keyCommand = `tidemark host-key --host ${plan.ssh.hostKeyAlias}`,
): ApplicationFailure | undefined {
  const source = `${plan.source.user}@${plan.source.address}:${plan.source.port}`;
  if (hostKeyRejected.test(stderr)) {
    const name = plan.ssh.hostKeyAlias;
    return activityFailure(
      `ssh rejected the host key of ${name} (${source}), checked under the name "${name}" in ${plan.ssh.knownHostsFile}: ` +
        `no key is listed for that name, or the machine answering has another one; nothing was transferred. ` +
        `If the machine's key really changed, check the new one on the machine, then replace ${name}'s lines there ` +
        `(\`${keyCommand}\` prints them). ssh said: ` +
        stderr
          .split('\n')
          .filter((line) => /host key|verification failed/i.test(line))
          .join(' '),
      'HostKeyRejected',
    );
  }
  if (loginRefused.test(stderr)) {
    return activityFailure(
      `ssh login to ${source} with ${plan.ssh.identityFile} was refused; install the backup server's public key for ${plan.source.user}. ` +
        `ssh said: ${stderr
          .split('\n')
          .filter((line) => loginRefused.test(line))
          .join(' ')}`,
      'SshAuthFailed',
    );
  }
  return undefined;
}

/** The backup server's disk is full (or the dataset's quota reached): retrying cannot help. */
export function poolFull(stderr: string): boolean {
  return /No space left on device|Disk quota exceeded/.test(stderr);
}
