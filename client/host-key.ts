// `tidemark host-key --host H` (or `--receive SERVER`): the known_hosts lines for a machine under the name ssh
// checks its key by (HostKeyAlias: the host's inventory name, a server's name for replication), from a scan
// of the machine, checked against what known_hosts already lists for its name or address. Stdout can be
// appended to known_hosts as it is: everything but the key lines is a "#" comment.
import { ExitCode } from '../domain/errors.js';
import { TidemarkError } from '../domain/errors.js';
import { resolveHost, resolveSsh, serverEntry } from '../inventory/resolve.js';
import type { Inventory } from '../inventory/schema.js';
import { addressPattern, entriesFor, parseEntry, type KnownHostsEntry } from '../subprocess/known-hosts.js';
import { startChild } from '../subprocess/runner.js';

export interface HostKeyReport {
  /** Lines for known_hosts (comments and key lines); empty when there is nothing to append. */
  stdout: string;
  /** What happened, for the operator. */
  stderr: string;
  exitCode: ExitCode;
}

interface Machine {
  name: string;
  address: string;
  port: number;
}

function machineOf(inventory: Inventory, options: { host?: string; receive?: string }): Machine {
  if ((options.host === undefined) === (options.receive === undefined))
    throw new TidemarkError(
      'USAGE',
      'give either --host NAME (a backed-up host) or --receive SERVER (a replication target)',
    );
  if (options.host !== undefined) {
    const host = resolveHost(inventory, options.host);
    return { name: host.host, address: host.address, port: host.port };
  }
  const server = options.receive!;
  const receive = serverEntry(inventory, server)?.receive;
  if (!receive)
    throw new TidemarkError(
      'USAGE',
      `--receive: "${server}" is not a server with a receive: section in the inventory (servers.<name>.receive: how other servers reach it)`,
    );
  return { name: server.toLowerCase(), address: receive.address, port: receive.port ?? 22 };
}

const same = (a: KnownHostsEntry, b: KnownHostsEntry) => a.keyType === b.keyType && a.key === b.key;

export async function hostKeyLines(
  inventory: Inventory,
  options: { host?: string; receive?: string },
): Promise<HostKeyReport> {
  const machine = machineOf(inventory, options);
  const file = resolveSsh(inventory).knownHostsFile;
  const pattern = addressPattern(machine.address, machine.port);
  const where = `${machine.address} port ${machine.port}`;
  const scan = await startChild('ssh-keyscan', ['-p', String(machine.port), '-T', '15', '--', machine.address], {
    encoding: 'utf8',
    timeoutMs: 60_000,
  }).result;
  const scanned = String(scan.stdout)
    .split('\n')
    .flatMap((line) => {
      const entry = parseEntry(line.trim());
      return entry && !entry.marker ? [entry] : [];
    });
  if (scanned.length === 0)
    return failed(`ssh-keyscan got no host key from ${where}: ${String(scan.stderr).trim() || 'no answer'}`);

  const [named, byAddress] = await Promise.all([entriesFor(file, machine.name), entriesFor(file, pattern)]);
  const revoked = [...named, ...byAddress].filter((entry) => entry.marker === '@revoked');
  const offered = scanned.filter((key) => !revoked.some((entry) => same(entry, key)));
  const trusted = (entries: KnownHostsEntry[]) => entries.filter((entry) => !entry.marker);
  const line = (key: KnownHostsEntry) => `${machine.name} ${key.keyType} ${key.key}`;

  if (trusted(named).length > 0) {
    if (offered.some((key) => trusted(named).some((entry) => same(entry, key))))
      return {
        stdout: '',
        stderr: `${machine.name} is listed in ${file} under its name, and ${where} answers with that key: nothing to add.`,
        exitCode: ExitCode.ok,
      };
    return failed(
      `${where} answers with another key than the one ${file} lists for ${machine.name}: nothing printed. ` +
        `If the machine's key really changed (a reinstall), check the new one on the machine, remove the old lines ` +
        `(ssh-keygen -R ${machine.name} -f ${file}) and run this again.`,
    );
  }
  if (trusted(byAddress).length > 0) {
    const checked = offered.filter((key) => trusted(byAddress).some((entry) => same(entry, key)));
    if (checked.length === 0)
      return failed(
        `${where} answers with other keys than the ones ${file} lists for its address (${pattern}): nothing printed. ` +
          `Check the machine's key on the machine itself before trusting it.`,
      );
    return {
      stdout: [
        `# ${machine.name}: the keys ${file} lists for ${pattern}, under the name ssh checks`,
        ...checked.map(line),
      ].join('\n'),
      stderr: `${machine.name}: ${checked.length} key${checked.length === 1 ? '' : 's'} checked against the address entry ${pattern}; append the lines to ${file}.`,
      exitCode: ExitCode.ok,
    };
  }
  if (offered.length === 0) return failed(`every key ${where} answers with is revoked in ${file}: nothing printed.`);
  const fingerprints = await startChild('ssh-keygen', ['-l', '-f', '-'], {
    input: `${offered.map(line).join('\n')}\n`,
    encoding: 'utf8',
    timeoutMs: 30_000,
  }).result;
  return {
    stdout: [
      `# ${machine.name} (${where}): NOT checked, ${file} lists neither the name nor the address. Compare these`,
      `# fingerprints with \`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub\` (and the other types) on the machine:`,
      ...String(fingerprints.stdout)
        .split('\n')
        .filter(Boolean)
        .map((fingerprint) => `#   ${fingerprint}`),
      ...offered.map(line),
    ].join('\n'),
    stderr: `${machine.name}: the keys ${where} answers with are not checked yet: compare the fingerprints on the machine before appending them to ${file}.`,
    exitCode: ExitCode.ok,
  };
}

function failed(message: string): HostKeyReport {
  return { stdout: '', stderr: message, exitCode: ExitCode.backupFailed };
}
