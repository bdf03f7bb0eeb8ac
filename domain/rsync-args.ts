// The exact rsync command line Tidemark runs (also used by the benchmark's bare baseline).
import type { BackupPlan } from './backup.js';
import { filterRules } from './excludes.js';
import { applyRsyncOptions, remoteRsyncCommand } from './rsync-options.js';

/** ssh options: no config file (root's ~/.ssh/config or /etc/ssh/ssh_config could add a ProxyCommand,
 * another identity or forwarding: only the options below apply), never prompt, trust only the configured
 * known_hosts, and there only the entry of the host's name (HostKeyAlias: an address reassigned, or a name
 * pointed at another machine, meets the name's own key), notice dead links, no compression (rsync's own
 * delta transfer matters more; compressing costs CPU on fast links), fast AEAD ciphers first. */
export function sshCommand(plan: Pick<BackupPlan, 'ssh' | 'source'>): string[] {
  return [
    ...strictSsh(plan.source.port, plan.ssh.identityFile, plan.ssh.knownHostsFile),
    '-o',
    `HostKeyAlias=${checkedHostKeyAlias(plan.ssh.hostKeyAlias)}`,
    '-o',
    'ServerAliveInterval=15',
    '-o',
    'ServerAliveCountMax=4',
    '-o',
    'Compression=no',
    '-o',
    'Ciphers=aes128-gcm@openssh.com,aes256-gcm@openssh.com,chacha20-poly1305@openssh.com',
    ...multiplexing(plan.ssh.controlPath),
    ...jumpHostOptions(plan),
    '-o',
    'LogLevel=ERROR',
  ];
}

/** A name known_hosts reads as a plain host name: lower-case letters, digits, "-" and "." (the inventory's
 * host and server names, lower-cased); never a pattern (* ? !), a list (,), a port ([…]:22), a hashed
 * entry (|…) or a marker (@…). */
const hostKeyAliasPattern = /^[a-z0-9]([a-z0-9.-]{0,252})$/;

/** `alias` if known_hosts would read it as one plain host name; throws otherwise. */
export function checkedHostKeyAlias(alias: string): string {
  if (!hostKeyAliasPattern.test(alias))
    throw new Error(
      `host key name ${JSON.stringify(alias.slice(0, 80))} is not a plain lower-case host name: known_hosts would misread it`,
    );
  return alias;
}

/** `ssh` with no config file, Tidemark's key only, never a prompt, and the host key checked against
 * `knownHostsFile` alone. */
function strictSsh(port: number, identityFile: string, knownHostsFile: string): string[] {
  return [
    'ssh',
    '-F',
    '/dev/null',
    '-p',
    String(port),
    '-i',
    identityFile,
    '-o',
    'BatchMode=yes',
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    `UserKnownHostsFile=${knownHostsFile}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'ConnectTimeout=20',
  ];
}

/** ssh.jumpHost as a ProxyCommand (not -J, whose inner ssh would read ~/.ssh/config and the default
 * known_hosts): the same key, no config file, and the jump host checked against its own known_hosts. */
function jumpHostOptions(plan: Pick<BackupPlan, 'ssh' | 'source'>): string[] {
  const jump = plan.ssh.jumpHost;
  if (!jump) return [];
  const inner = [
    ...strictSsh(jump.port, plan.ssh.identityFile, jump.knownHostsFile),
    '-W',
    '%h:%p',
    '-l',
    jump.user,
    '--',
    jump.address,
  ];
  return ['-o', `ProxyCommand=${inner.join(' ')}`];
}

/** rsync's --rsh value: rsync splits it at spaces (and honours quotes), so an argument holding whitespace,
 * a quote or a backslash could become options of its own. Such values never get that far (the inventory
 * refuses them); this refuses them again rather than quote them. The one exception is the jump host's
 * ProxyCommand, built here from checked words joined by single spaces: it is single-quoted for rsync. */
export function rshOption(argv: readonly string[]): string {
  const proxyCommand = (arg: string) => arg.startsWith('ProxyCommand=') && /^\S+( \S+)*$/.test(arg);
  const bad = argv.find((arg) => arg === '' || /['"\\]/.test(arg) || (/\s/.test(arg) && !proxyCommand(arg)));
  if (bad !== undefined)
    throw new Error(`ssh argument ${JSON.stringify(bad)} holds whitespace or a quote: refused for --rsh`);
  return `--rsh=${argv.map((arg) => (arg.includes(' ') ? `'${arg}'` : arg)).join(' ')}`;
}

/** `ssh … -l user -- address command`; never a local shell. */
export function sshArgv(plan: Pick<BackupPlan, 'ssh' | 'source'>, command: string): string[] {
  return [...sshCommand(plan), '-l', plan.source.user, '--', plan.source.address, command];
}

/** How long a run's shared ssh connection outlives its last use: the transfer closes it when done, so this
 * only bounds a run that stopped before its transfer (veto, abort). Long enough to span the wait for a
 * transfer slot when many hosts are started at once. */
export const controlPersistSeconds = 300;

/**
 * One ssh login per run instead of one per step: the first ssh of the run (the probe) becomes the master
 * and backgrounds itself; hooks and rsync open sessions through its socket (a login costs ~0.3 s of CPU
 * with post-quantum key exchange). A master that is gone is replaced by the next ssh.
 */
function multiplexing(controlPath: string | undefined): string[] {
  if (!controlPath) return ['-o', 'ControlMaster=no', '-o', 'ControlPath=none'];
  return [
    '-o',
    'ControlMaster=auto',
    '-o',
    `ControlPath=${controlPath}`,
    '-o',
    `ControlPersist=${controlPersistSeconds}s`,
  ];
}

/** `ssh -N -f`: logs in and leaves the run's control master in the background, running nothing on the
 * host (a forced command such as tidemark-ssh-filter is not invoked); undefined without multiplexing. */
export function openMasterCommand(plan: Pick<BackupPlan, 'ssh' | 'source'>): string[] | undefined {
  if (!plan.ssh.controlPath) return undefined;
  return [...sshCommand(plan), '-N', '-f', '-l', plan.source.user, '--', plan.source.address];
}

/** `ssh -O exit` for the run's control master (undefined without multiplexing). */
export function closeMasterCommand(plan: Pick<BackupPlan, 'ssh' | 'source'>): string[] | undefined {
  if (!plan.ssh.controlPath) return undefined;
  return [
    'ssh',
    '-F',
    '/dev/null',
    '-o',
    `ControlPath=${plan.ssh.controlPath}`,
    '-O',
    'exit',
    '-p',
    String(plan.source.port),
    '-l',
    plan.source.user,
    '--',
    plan.source.address,
  ];
}

/** `user@host:` with brackets for IPv6 literals. */
export function remotePrefix(source: BackupPlan['source']): string {
  const host = source.address.includes(':') ? `[${source.address}]` : source.address;
  return `${source.user}@${host}:`;
}

/** A full-system copy, for backup and restore alike: archive (-rlptgoD), hard links, ACLs, xattrs,
 * numeric ids, sparse files. */
export const fullSystemFlags = [
  '--archive',
  '--hard-links',
  '--acls',
  '--xattrs',
  '--numeric-ids',
  '--sparse',
] as const;

/** rsync arguments (without the leading "rsync") pulling the plan's paths into `destination`. */
export function rsyncArgs(plan: BackupPlan, destination: string): string[] {
  const args = [
    ...fullSystemFlags,
    // Keep each listed path's full name; stay on the filesystem of each listed path.
    '--relative',
    '--one-file-system',
    // The copy mirrors the source: gone files and newly excluded ones vanish (older snapshots keep them).
    '--delete',
    '--delete-excluded',
    // Rewrite only changed blocks: unchanged blocks stay shared with older ZFS snapshots.
    '--inplace',
    `--timeout=${plan.transfer.ioTimeoutSeconds}`,
    // Paths and options travel inside rsync's protocol, never through the host's shell: a name with ";",
    // "$(...)" or backquotes stays a name even if RSYNC_OLD_ARGS is set (an explicit flag overrides it).
    '--secluded-args',
    '--stats',
    '--info=progress2',
    rshOption(sshCommand(plan)),
  ];
  if (plan.transfer.bandwidthLimit) args.push(`--bwlimit=${plan.transfer.bandwidthLimit}`);
  const remote = remoteRsyncCommand({ sudo: plan.source.sudo, ionice: plan.transfer.ionice, nice: plan.transfer.nice });
  if (remote !== 'rsync') args.push(`--rsync-path=${remote}`);
  const withOptions = applyRsyncOptions(args, plan.transfer.rsyncOptions ?? [], plan.transfer.checksumRun === true);
  args.splice(0, args.length, ...withOptions);
  // Excludes and the allow-list go to rsync's stdin (rsyncFilterInput), not argv: host files can be long.
  if (rsyncFilterRules(plan).length > 0) args.push('--exclude-from=-');
  const prefix = remotePrefix(plan.source);
  for (const path of plan.paths) args.push(`${prefix}${path}`);
  args.push(destination.endsWith('/') ? destination : `${destination}/`);
  return args;
}

/** The filter rules ("- pattern" excludes in order, then "+ …" / "- *" for an allow-list), one a line. */
export function rsyncFilterRules(plan: Pick<BackupPlan, 'excludes' | 'include'>): string[] {
  return filterRules(plan.excludes, plan.include);
}

/** What to write to rsync's stdin for `--exclude-from=-`; empty when there are no rules. */
export function rsyncFilterInput(plan: Pick<BackupPlan, 'excludes' | 'include'>): string {
  const rules = rsyncFilterRules(plan);
  return rules.length > 0 ? `${rules.join('\n')}\n` : '';
}
