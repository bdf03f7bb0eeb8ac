// `tidemark host-setup --host H`: what to install on a backed-up host so the backup server's key can run
// Tidemark's commands and nothing else (forced-command filter, its config, the authorized_keys line and,
// for a non-root user, the sudoers lines).
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { TidemarkError } from '../domain/errors.js';
import { hookCommand, probeCommand, safeRemotePath, type HostStepsPlan } from '../domain/host-steps.js';
import type { Inventory } from '../inventory/schema.js';
import { defaultHostRestoreRoot, freshTargetCommand } from '../domain/restore-target.js';
import { verifyCommands } from './verify-remote.js';
import { resolveHost, resolveSsh } from '../inventory/resolve.js';
import { hostPriorityPrefix } from '../domain/rsync-options.js';

/** The filter as shipped in the package (dist/client/ sits two folders below the package root). */
export const packagedFilterPath = fileURLToPath(new URL('../../deploy/host/tidemark-ssh-filter', import.meta.url));
export const defaultFilterPath = '/usr/local/lib/tidemark/tidemark-ssh-filter';
export const defaultFilterConfigPath = '/etc/tidemark-ssh-filter.conf';

/** What the filter compares probe and hook commands with; @MARKER@ stands for the per-call marker. verify's
 * commands are fixed (the names come on stdin). */
export interface CommandTemplates {
  probe: string;
  hook: string;
  verify: string[];
}

/**
 * Builds each command twice with different markers and puts @MARKER@ where they differ: the templates are
 * exactly what the worker sends, whatever text the configured paths hold.
 */
export function commandTemplates(
  steps: Pick<HostStepsPlan, 'hooks' | 'veto' | 'excludeFile'>,
  sudo: boolean,
): CommandTemplates {
  const build = (marker: string) => ({
    probe: probeCommand(steps.veto.dir, steps.excludeFile, marker, steps.hooks.dir),
    hook: hookCommand(steps.hooks.dir, steps.hooks.timeoutMs / 1000, sudo, marker),
  });
  const first = build('aaaaaaaa0first0marker');
  const second = build('zzzzzzzz9second9marker');
  const template = (name: 'probe' | 'hook') => {
    const a = first[name].replaceAll('aaaaaaaa0first0marker', '@MARKER@');
    const b = second[name].replaceAll('zzzzzzzz9second9marker', '@MARKER@');
    if (a !== b || !a.includes('@MARKER@'))
      throw new Error(`the ${name} command does not have the shape the host filter expects`);
    // The filter's config holds one template a line with "\n" for newlines: a backslash would be ambiguous.
    if (a.includes('\\'))
      throw new Error(`the ${name} command contains a backslash, which the host filter's config cannot hold`);
    return a;
  };
  return { probe: template('probe'), hook: template('hook'), verify: verifyCommands(sudo) };
}

/** /etc/tidemark-ssh-filter.conf for the host. */
export function filterConfig(
  host: string,
  templates: CommandTemplates,
  sudo: boolean,
  restoreRoot = defaultHostRestoreRoot,
  priority: string[] = [],
): string {
  const oneLine = (text: string) => text.replaceAll('\n', '\\n');
  return [
    `# tidemark-ssh-filter settings for ${host}, from \`tidemark host-setup --host ${host}\`.`,
    "# Run it again and replace this file after changing the host's hooks, veto, excludeFile, restoreRoot, sudo, ionice or nice settings.",
    `sudo=${sudo ? 'yes' : 'no'}`,
    // rsync runs under exactly this prefix (transfer.ionice / transfer.nice); absent: plain rsync.
    ...(priority.length > 0 ? [`priority=${priority.join(' ')}`] : []),
    `probe=${oneLine(templates.probe)}`,
    `hook=${oneLine(templates.hook)}`,
    ...templates.verify.map((command) => `verify=${command}`),
    // restore --to-host's default target: the root checked, a fresh 0700 directory made (its name on stdin).
    `restore-target=${freshTargetCommand(restoreRoot, sudo)}`,
    `restore-root=${restoreRoot}`,
    '',
  ].join('\n');
}

/** restrict: no pty, no forwarding, no ~/.ssh/rc; from=: only the backup servers; command=: the filter. */
export function authorizedKeysLine(publicKey: string, serverAddresses: string[], filterCommand: string): string {
  const options = ['restrict'];
  if (serverAddresses.length > 0) options.push(`from="${serverAddresses.join(',')}"`);
  options.push(`command="${filterCommand}"`);
  return `${options.join(',')} ${publicKey.trim()}`;
}

/** NOPASSWD rules for exactly what the filter runs through sudo: backup (rsync sender under the host's
 * ionice/nice prefix, hooks), verify (stat, sha256sum) and restore --to-host (rsync receiver beneath the
 * restore root). */
export function sudoersLines(
  user: string,
  hookDir: string,
  hookTimeoutMs: number,
  restoreRoot = defaultHostRestoreRoot,
  priority: string[] = [],
): string[] {
  const dir = hookDir.length > 1 ? hookDir.replace(/\/+$/, '') : hookDir;
  const root = restoreRoot.length > 1 ? restoreRoot.replace(/\/+$/, '') : restoreRoot;
  const seconds = Math.max(1, Math.ceil(hookTimeoutMs / 1000));
  return [
    '# The ssh filter runs rsync as "rsync --server [--sender] -<flags>e.<caps> <options> . <paths>" after checking',
    '# every word; sudo\'s "*" also matches spaces, so the filter (the key\'s forced command) is what pins them.',
    '# backup:',
    priority.length > 0
      ? `${user} ALL=(root) NOPASSWD: /usr/bin/${priority[0]} ${[...priority.slice(1), 'rsync'].join(' ')} --server --sender -*`
      : `${user} ALL=(root) NOPASSWD: /usr/bin/rsync --server --sender -*`,
    `${user} ALL=(root) NOPASSWD: /usr/bin/timeout -k 10 ${seconds} run-parts --report ${dir}`,
    '# verify (read-only: size, mtime and SHA-256 of the files it samples):',
    `${user} ALL=(root) NOPASSWD: /usr/bin/stat --printf *`,
    `${user} ALL=(root) NOPASSWD: /usr/bin/sha256sum -z -- *`,
    `# restore --to-host (writes beneath ${root} only; the filter resolves symlinks first, and admits mkdir`,
    '# only inside the fixed command that checks the root and makes a fresh 0700 target in it):',
    `${user} ALL=(root) NOPASSWD: /usr/bin/mkdir -p -- ${root}`,
    `${user} ALL=(root) NOPASSWD: /usr/bin/mkdir -m 0700 -- ${root}/*`,
    `${user} ALL=(root) NOPASSWD: /usr/bin/rsync --server -* . ${root}/*`,
  ];
}

export interface HostSetupOptions {
  host: string;
  /** Where the filter is installed on the host (default /usr/local/lib/tidemark/tidemark-ssh-filter). */
  filterPath?: string;
  /** Where its config is installed (default /etc/tidemark-ssh-filter.conf; given to the filter when not). */
  configPath?: string;
}

export interface HostSetup {
  host: string;
  user: string;
  sudo: boolean;
  serverAddresses: string[];
  /** Servers of the host without `address`: with any, from= is left out. */
  serversWithoutAddress: string[];
  filterConfig: string;
  filterPath: string;
  configPath: string;
  /** The forced command as written in authorized_keys. */
  filterCommand: string;
  /** Sudoers lines; empty for root. */
  sudoers: string[];
  /** Where the filter lets restore --to-host write (hosts.<name>.restoreRoot). */
  restoreRoot: string;
  identityFile: string;
  /** ssh.knownHostsFile: where the host's key goes, under its name. */
  knownHostsFile: string;
}

export function hostSetup(inventory: Inventory, options: HostSetupOptions): HostSetup {
  const resolved = resolveHost(inventory, options.host);
  const filterPath = options.filterPath ?? defaultFilterPath;
  const configPath = options.configPath ?? defaultFilterConfigPath;
  // Both go inside command="..." of authorized_keys, which sshd hands to the user's shell.
  for (const [option, path] of [
    ['--filter-path', filterPath],
    ['--filter-config', configPath],
  ] as const) {
    if (!safeRemotePath.test(path))
      throw new TidemarkError(
        'USAGE',
        `${option}: expected an absolute path of letters, digits and . _ + - only, got ${JSON.stringify(path)}`,
      );
  }
  const addresses = resolved.servers.map((server) => ({ server, address: inventory.servers[server]?.address }));
  const serversWithoutAddress = addresses.filter((entry) => entry.address === undefined).map((entry) => entry.server);
  // A from= listing only some servers would lock the others out: all or nothing.
  const serverAddresses =
    serversWithoutAddress.length > 0 ? [] : [...new Set(addresses.map((entry) => entry.address!))];
  const root = resolved.user === 'root';
  const priority = hostPriorityPrefix(resolved.transfer);
  return {
    host: resolved.host,
    user: resolved.user,
    sudo: resolved.sudo,
    serverAddresses,
    serversWithoutAddress,
    filterConfig: filterConfig(
      resolved.host,
      commandTemplates(resolved.hostSteps, resolved.sudo),
      resolved.sudo,
      resolved.restoreRoot,
      priority,
    ),
    filterPath,
    configPath,
    filterCommand: configPath === defaultFilterConfigPath ? filterPath : `${filterPath} ${configPath}`,
    sudoers:
      root || !resolved.sudo
        ? []
        : sudoersLines(
            resolved.user,
            resolved.hostSteps.hooks.dir,
            resolved.hostSteps.hooks.timeoutMs,
            resolved.restoreRoot,
            priority,
          ),
    identityFile: resolveSsh(inventory).identityFile,
    knownHostsFile: resolveSsh(inventory).knownHostsFile,
    restoreRoot: resolved.restoreRoot,
  };
}

/** The text `tidemark host-setup` prints. */
export async function describeHostSetup(inventory: Inventory, options: HostSetupOptions): Promise<string> {
  const setup = hostSetup(inventory, options);
  const publicKeyFile = `${setup.identityFile}.pub`;
  const publicKey = (await readFile(publicKeyFile, 'utf8').catch(() => undefined))?.trim().split('\n')[0];
  const home = setup.user === 'root' ? '/root' : `~${setup.user}`;
  const lines = [
    `# Host onboarding for ${setup.host}: install as root on the host. The backup server's key may then run`,
    "# Tidemark's probe, the hook scripts, verify's stat and sha256sum, a read-only rsync and an rsync writing",
    `# beneath ${setup.restoreRoot} (restore --to-host), and nothing else.`,
    '',
    `## 1. The filter (POSIX sh), mode 0755, owned by root: ${setup.filterPath}`,
    `#    shipped in the package at ${packagedFilterPath}`,
    `#    e.g.  install -D -m 0755 tidemark-ssh-filter ${setup.filterPath}`,
    '',
    `## 2. Its settings, mode 0644, owned by root: ${setup.configPath}`,
    setup.filterConfig.trimEnd(),
    '',
    `## 3. ${home}/.ssh/authorized_keys (replacing any other line with this key)`,
    authorizedKeysLine(publicKey ?? `<contents of ${publicKeyFile}>`, setup.serverAddresses, setup.filterCommand),
  ];
  if (!publicKey)
    lines.push(`# ${publicKeyFile} is not readable here: put the backup server's public key in its place.`);
  if (setup.serversWithoutAddress.length > 0) {
    lines.push(
      `# No from="..." (the key works from any address): servers.<name>.address is not set for ${setup.serversWithoutAddress.join(', ')}.`,
      '# Set it to the address each backup server connects from and run host-setup again.',
    );
  }
  if (setup.sudoers.length > 0) {
    lines.push(
      '',
      `## 4. /etc/sudoers.d/tidemark, mode 0440 (check with: visudo -cf /etc/sudoers.d/tidemark)`,
      ...setup.sudoers,
    );
  } else if (setup.user !== 'root') {
    lines.push(
      '',
      `# ${setup.user} logs in without sudo: it copies only what it can read itself (set sudo: true for a full-system copy).`,
    );
  }
  lines.push(
    '',
    `## On the backup server: trust the host's ssh key under its name, ${setup.host} (ssh checks it by name, not by address)`,
    `#    tidemark host-key --host ${setup.host} >> ${setup.knownHostsFile}`,
    '#    (compare the fingerprints it prints with `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` on the host first)',
    '',
    '# Check from the backup server: `ssh <host> id` must print "tidemark-ssh-filter: refused: ..." and exit 1.',
  );
  return lines.join('\n');
}
