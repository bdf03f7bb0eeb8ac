// Hostile and broken inventories: each is refused naming the field (one printable line per problem),
// or accepted with the reason written beside it. Most cases run through parseInventory; a representative
// set runs through `tidemark config check` as a subprocess to show exit 2, one line, no stack trace.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { execa } from 'execa';
import { parseExcludeFile } from '../domain/excludes.js';
import { parseInventory } from '../inventory/load.js';
import { resolveHost } from '../inventory/resolve.js';
import { cliPath } from './helpers/rig.js';

const servers = 'servers: { b1: { dataset: data } }\n';
/** A valid inventory with one host `vpn` carrying `fields` (YAML flow text). */
const host = (fields: string) => `${servers}hosts: { vpn: { address: vpn.example.org, ${fields} } }\n`;
const withTop = (top: string) => `${servers}${top}\nhosts: { vpn: { address: vpn.example.org } }\n`;
const server = (fields: string) => `servers: { b1: { dataset: data, ${fields} } }\nhosts: {}\n`;

interface Refused {
  name: string;
  yaml: string;
  /** A line of the message: the field, then what is wrong. */
  refused: RegExp;
}
interface Accepted {
  name: string;
  yaml: string;
  accepted: string;
}
type Case = Refused | Accepted;

const control = (field: string) =>
  new RegExp(`^${field}: contains the control character U\\+[0-9A-F]{4}; remove it`, 'm');
const alphabet = (field: string) =>
  new RegExp(`^${field}: expected an absolute path of letters, digits, "/" and \\. _ \\+ - @ : , =`, 'm');
/** Host paths: the alphabet the host's ssh filter admits (domain/host-path.ts). */
const hostAlphabet = (field: string) =>
  new RegExp(
    `^${field}: expected an absolute path of ASCII letters, digits, "/" and \\. _ \\+ - .*\\(the host's ssh filter, tidemark-ssh-filter, admits no other\\)`,
    'm',
  );
const everything = (field: string) => new RegExp(`^${field}: .*would exclude everything under /`, 'm');

const cases: Case[] = [
  // The worker replaces its state file: never the inventory or another system file.
  {
    name: 'stateFile over the inventory',
    yaml: server('stateFile: /etc/tidemark/tidemark.yaml'),
    refused: /^servers\.b1\.stateFile: expected a file ending in "\.json"/m,
  },
  {
    name: 'stateFile in /etc',
    yaml: server('stateFile: /etc/tidemark/state.json'),
    refused: /^servers\.b1\.stateFile: expected a file outside \/etc/m,
  },
  {
    name: 'restore roots with ".."',
    yaml: server('restore: { roots: ["/srv/../etc"] }'),
    refused: /^servers\.b1\.restore\.roots\.0: a path may not contain "\.\." components/m,
  },
  { name: 'a quota that is not a size', yaml: host('quota: lots'), refused: /^hosts\.vpn\.quota: expected a size/m },
  // Control characters, in every kind of field (an rsync filter line ends at \r; terminals obey \x1b).
  { name: 'CR in a path', yaml: host('paths: ["/srv\\r/x"]'), refused: control('hosts\\.vpn\\.paths\\.0') },
  {
    name: 'CR ends an rsync filter line',
    yaml: host('excludes: ["/nothing\\r*"]'),
    refused: control('hosts\\.vpn\\.excludes\\.0'),
  },
  { name: 'LF in an include item', yaml: host('include: ["etc\\n"]'), refused: control('hosts\\.vpn\\.include\\.0') },
  {
    name: 'ESC in selectionRoot',
    yaml: host('selectionRoot: "/\\e[31m"'),
    refused: control('hosts\\.vpn\\.selectionRoot'),
  },
  {
    name: 'NUL in hooks.dir',
    yaml: host('hooks: { dir: "/etc/backup-scripts\\0" }'),
    refused: control('hosts\\.vpn\\.hooks\\.dir'),
  },
  { name: 'TAB in excludeFile', yaml: host('excludeFile: "/etc/x\\t"'), refused: control('hosts\\.vpn\\.excludeFile') },
  {
    name: 'C1 NEL in veto.dir',
    yaml: host('veto: { dir: "/var/lib/veto\\N" }'),
    refused: control('hosts\\.vpn\\.veto\\.dir'),
  },
  {
    name: 'bidi override in a server hook',
    yaml: server('hooks: { before: "/usr/local/bin/x\\u202e" }'),
    refused: control('servers\\.b1\\.hooks\\.before'),
  },
  {
    name: 'CR in the address',
    yaml: `${servers}hosts: { vpn: { address: "vpn\\r.example.org" } }`,
    refused: control('hosts\\.vpn\\.address'),
  },
  { name: 'LF in the user', yaml: host('user: "root\\n"'), refused: control('hosts\\.vpn\\.user') },
  {
    name: 'line separator in temporal.namespace',
    yaml: withTop('temporal: { namespace: "def\\u2028ault" }'),
    refused: control('temporal\\.namespace'),
  },
  {
    name: 'BEL in ssh.identityFile',
    yaml: withTop('ssh: { identityFile: "/etc/id\\a" }'),
    refused: control('ssh\\.identityFile'),
  },
  {
    name: 'ESC in a key',
    yaml: host('"pa\\eths": ["/"]'),
    refused: /^hosts\.vpn\."pa\\u001bths": this key contains the control character U\+001B/m,
  },
  {
    name: 'CR in netbox.tag',
    yaml: withTop('netbox: { url: "https://nb.example.org", tokenEnv: NB, tag: "Back\\rup" }'),
    refused: control('netbox\\.tag'),
  },
  {
    name: 'CR in a time zone',
    yaml: host('timezone: "Europe/Amsterdam\\r"'),
    refused: control('hosts\\.vpn\\.timezone'),
  },
  {
    name: 'CR in a blackout window',
    yaml: host('blackout: ["09:00-17:00\\r"]'),
    refused: control('hosts\\.vpn\\.blackout\\.0'),
  },
  {
    name: 'CR in a cron line',
    yaml: host('schedule: { cron: "0 3 * * *\\r" }'),
    refused: control('hosts\\.vpn\\.schedule\\.cron'),
  },
  {
    name: 'ESC in a notify target',
    yaml: withTop('notify: [{ type: healthchecks, url: "https://hc.example.org/\\e[2J" }]'),
    refused: control('notify\\.0\\.url'),
  },

  // Shell metacharacters and other characters outside the path alphabet.
  {
    name: 'command substitution in a path',
    yaml: host('paths: ["/srv; touch /tmp/pwned $(id)"]'),
    refused: hostAlphabet('hosts\\.vpn\\.paths\\.0'),
  },
  // The host's ssh filter admits ASCII letters, digits and . _ / + - only: anything else would pass the
  // inventory and then fail every run (issue 20).
  {
    name: 'letters of another script in a path',
    yaml: host('paths: ["/srv/données"]'),
    refused: hostAlphabet('hosts\\.vpn\\.paths\\.0'),
  },
  {
    name: 'at sign in a path',
    yaml: host('paths: ["/srv/user@host"]'),
    refused: hostAlphabet('hosts\\.vpn\\.paths\\.0'),
  },
  { name: 'colon in a path', yaml: host('paths: ["/srv/a:b"]'), refused: hostAlphabet('hosts\\.vpn\\.paths\\.0') },
  {
    name: 'comma and equals in a path',
    yaml: host('paths: ["/srv/a,b=c"]'),
    refused: hostAlphabet('hosts\\.vpn\\.paths\\.0'),
  },
  {
    name: 'letters of another script in selectionRoot',
    yaml: host('selectionRoot: /mnt/données'),
    refused: hostAlphabet('hosts\\.vpn\\.selectionRoot'),
  },
  { name: 'backticks in a path', yaml: host('paths: ["/srv/`id`"]'), refused: hostAlphabet('hosts\\.vpn\\.paths\\.0') },
  { name: 'ampersand in a path', yaml: host('paths: ["/srv/a&b"]'), refused: hostAlphabet('hosts\\.vpn\\.paths\\.0') },
  { name: 'pipe in a path', yaml: host('paths: ["/srv/a|b"]'), refused: hostAlphabet('hosts\\.vpn\\.paths\\.0') },
  {
    name: 'redirections in a path',
    yaml: host('paths: ["/srv/<x>"]'),
    refused: hostAlphabet('hosts\\.vpn\\.paths\\.0'),
  },
  { name: 'wildcard in a path', yaml: host('paths: ["/srv/*"]'), refused: hostAlphabet('hosts\\.vpn\\.paths\\.0') },
  {
    name: 'question mark in a path',
    yaml: host('paths: ["/srv/a?b"]'),
    refused: hostAlphabet('hosts\\.vpn\\.paths\\.0'),
  },
  {
    name: 'parentheses in a path',
    yaml: host('paths: ["/srv/(x)"]'),
    refused: hostAlphabet('hosts\\.vpn\\.paths\\.0'),
  },
  {
    name: 'single quote in a path',
    yaml: host('paths: ["/srv/it\'s"]'),
    refused: hostAlphabet('hosts\\.vpn\\.paths\\.0'),
  },
  {
    name: 'double quote in a path',
    yaml: host('paths: [\'/srv/"x"\']'),
    refused: hostAlphabet('hosts\\.vpn\\.paths\\.0'),
  },
  {
    name: 'backslash in a path',
    yaml: host('paths: ["/srv/a\\\\b"]'),
    refused: hostAlphabet('hosts\\.vpn\\.paths\\.0'),
  },
  { name: 'tilde in a path', yaml: host('paths: ["/srv/~user"]'), refused: hostAlphabet('hosts\\.vpn\\.paths\\.0') },
  {
    name: 'trailing space in a path',
    yaml: host('paths: ["/srv/x "]'),
    refused: hostAlphabet('hosts\\.vpn\\.paths\\.0'),
  },
  {
    name: 'double space in a path',
    yaml: host('paths: ["/srv/a  b"]'),
    refused: hostAlphabet('hosts\\.vpn\\.paths\\.0'),
  },
  {
    name: '.. in a path',
    yaml: host('paths: ["/srv/../etc"]'),
    refused: /^hosts\.vpn\.paths\.0: a path may not contain "\.\." components/m,
  },
  {
    name: 'space in selectionRoot (not rsync-only)',
    yaml: host('selectionRoot: "/srv/a b"'),
    refused: hostAlphabet('hosts\\.vpn\\.selectionRoot'),
  },
  {
    name: 'space in hooks.dir (host shell)',
    yaml: host('hooks: { dir: "/etc/backup scripts" }'),
    refused: alphabet('hosts\\.vpn\\.hooks\\.dir'),
  },
  {
    name: 'semicolon in a server hook',
    yaml: server('hooks: { after: "/usr/bin/x;rm" }'),
    refused: alphabet('servers\\.b1\\.hooks\\.after'),
  },
  // The exclude file's lines go into the plan and history, read as root: never a secret or a kernel file.
  {
    name: 'excludeFile /etc/shadow',
    yaml: host('excludeFile: /etc/shadow'),
    refused:
      /^hosts\.vpn\.excludeFile: \/etc\/shadow holds passwords or access rules: its lines would be read into the run's history; name a file of exclude patterns only/m,
  },
  {
    name: 'excludeFile a backup of /etc/gshadow',
    yaml: host('excludeFile: /etc/gshadow-'),
    refused: /^hosts\.vpn\.excludeFile: \/etc\/gshadow- holds passwords/m,
  },
  {
    name: 'excludeFile a host key',
    yaml: host('excludeFile: /etc/ssh/ssh_host_ed25519_key'),
    refused: /^hosts\.vpn\.excludeFile: \/etc\/ssh\/ssh_host_ed25519_key holds private keys/m,
  },
  {
    name: "excludeFile in a user's .ssh",
    yaml: host('excludeFile: /home/alice/.ssh/id_ed25519'),
    refused: /^hosts\.vpn\.excludeFile: \/home\/alice\/\.ssh\/id_ed25519 holds private keys/m,
  },
  {
    name: "excludeFile in root's home",
    yaml: withTop('defaults: { excludeFile: /root/excludes }'),
    refused: /^defaults\.excludeFile: \/root\/excludes is in root's home/m,
  },
  {
    name: 'excludeFile /proc/self/environ',
    yaml: host('excludeFile: /proc/self/environ'),
    refused: /^hosts\.vpn\.excludeFile: \/proc\/self\/environ is in a kernel or runtime filesystem/m,
  },
  {
    name: 'excludeFile /dev/zero',
    yaml: host('excludeFile: /dev/zero'),
    refused: /^hosts\.vpn\.excludeFile: \/dev\/zero is in a kernel or runtime filesystem/m,
  },
  {
    name: 'dollar in excludeFile',
    yaml: host('excludeFile: "/etc/$HOME"'),
    refused: /^hosts\.vpn\.excludeFile: expected an absolute path/m,
  },
  {
    name: 'space in netbox.tokenFile',
    yaml: withTop('netbox: { url: "https://nb.example.org", tokenFile: "/etc/tok en" }'),
    refused: alphabet('netbox\\.tokenFile'),
  },
  {
    name: 'option injection as the address',
    yaml: `${servers}hosts: { vpn: { address: "-oProxyCommand=id" } }`,
    refused: /^hosts\.vpn\.address: expected the ssh target/m,
  },

  // Exclude patterns judged by what they match (rsync's wildcard rules, sample paths of any system).
  { name: 'exclude *', yaml: host('excludes: ["*"]'), refused: everything('hosts\\.vpn\\.excludes\\.0') },
  { name: 'exclude ?*', yaml: host('excludes: ["?*"]'), refused: everything('hosts\\.vpn\\.excludes\\.0') },
  { name: 'exclude /?*', yaml: host('excludes: ["/?*"]'), refused: everything('hosts\\.vpn\\.excludes\\.0') },
  { name: 'exclude /[a-z]*', yaml: host('excludes: ["/[a-z]*"]'), refused: everything('hosts\\.vpn\\.excludes\\.0') },
  { name: 'exclude **', yaml: host('excludes: ["**"]'), refused: everything('hosts\\.vpn\\.excludes\\.0') },
  { name: 'exclude /', yaml: host('excludes: ["/"]'), refused: everything('hosts\\.vpn\\.excludes\\.0') },
  {
    name: 'exclude */ (every directory)',
    yaml: host('excludes: ["*/"]'),
    refused: everything('hosts\\.vpn\\.excludes\\.0'),
  },
  {
    name: 'exclude /*/* (every top directory emptied)',
    yaml: host('excludes: ["/*/*"]'),
    refused: everything('hosts\\.vpn\\.excludes\\.0'),
  },
  { name: 'exclude /[!0-9]*', yaml: host('excludes: ["/[!0-9]*"]'), refused: everything('hosts\\.vpn\\.excludes\\.0') },
  {
    name: 'exclude /[[:alpha:]]*',
    yaml: host('excludes: ["/[[:alpha:]]*"]'),
    refused: everything('hosts\\.vpn\\.excludes\\.0'),
  },
  {
    name: 'two patterns that together exclude everything',
    yaml: host('excludes: ["/[a-m]*", "/[n-z]*"]'),
    refused:
      /^hosts\.vpn\.excludes: "\/\[n-z\]\*" refused: together with the patterns before it, would exclude everything under \//m,
  },
  {
    name: 'defaults exclude everything',
    yaml: `${servers}defaults: { excludes: ["*"] }\nhosts: {}\n`,
    refused: everything('defaults\\.excludes\\.0'),
  },
  {
    name: 'an exclude emptying the only listed path',
    yaml: host('paths: ["/srv"], excludes: ["/srv/*"]'),
    refused: /^hosts\.vpn\.excludes: "\/srv\/\*" refused: would exclude everything under \/srv/m,
  },
  {
    name: 'an exclude with leading whitespace',
    yaml: host('excludes: [" /tmp"]'),
    refused: /^hosts\.vpn\.excludes\.0: an exclude pattern may not start or end with whitespace/m,
  },

  // Durations: bounds with the reason.
  {
    name: 'retryInterval 0s',
    yaml: host('transfer: { retryInterval: 0s }'),
    refused: /^hosts\.vpn\.transfer\.retryInterval: must be at least 1s: /m,
  },
  {
    name: 'retryInterval above the retry cap',
    yaml: host('transfer: { retryInterval: 11m }'),
    refused: /^hosts\.vpn\.transfer\.retryInterval: must be at most 10m: the retry policy doubles the wait up to 10m/m,
  },
  {
    name: 'heartbeatTimeout 0s',
    yaml: host('transfer: { heartbeatTimeout: 0s }'),
    refused: /^hosts\.vpn\.transfer\.heartbeatTimeout: must be at least 1s: .*0 turns the check off/m,
  },
  {
    name: 'ioTimeout 0s',
    yaml: host('transfer: { ioTimeout: 0s }'),
    refused: /^hosts\.vpn\.transfer\.ioTimeout: must be at least 1s: .*0 turns stall detection off/m,
  },
  {
    name: 'ioTimeout 500ms',
    yaml: host('transfer: { ioTimeout: 500ms }'),
    refused: /^hosts\.vpn\.transfer\.ioTimeout: must be at least 1s/m,
  },
  {
    name: 'hooks.timeout 0s',
    yaml: host('hooks: { timeout: 0s }'),
    refused: /^hosts\.vpn\.hooks\.timeout: must be at least 1s: timeout\(1\)/m,
  },
  {
    name: 'hooks.timeout beyond the timer limit',
    yaml: host('hooks: { timeout: 25d }'),
    refused: /^hosts\.vpn\.hooks\.timeout: must be at most 24d20h31m23s647ms: Node's timer limit/m,
  },
  {
    name: 'huge veto.retryInterval',
    yaml: host('veto: { retryInterval: 99999999999999999d }'),
    refused: /^hosts\.vpn\.veto\.retryInterval: must be at most 24d20h31m23s647ms/m,
  },
  {
    name: 'negative duration',
    yaml: host('veto: { retryInterval: "-5m" }'),
    refused: /^hosts\.vpn\.veto\.retryInterval: expected a duration such as/m,
  },
  {
    name: 'server hook timeout 0s',
    yaml: server('hooks: { timeout: 0s }'),
    refused: /^servers\.b1\.hooks\.timeout: must be at least 1s/m,
  },
  {
    name: 'netbox.timeout 0s',
    yaml: withTop('netbox: { url: "https://nb.example.org", tokenEnv: NB, timeout: 0s }'),
    refused: /^netbox\.timeout: must be at least 1s/m,
  },
  {
    name: 'sync.every 30s',
    yaml: withTop('sync: { every: 30s }'),
    refused: /^sync\.every: must be at least 1m: each sync reads the inventory/m,
  },
  {
    name: 'jitter as long as the interval',
    yaml: host('schedule: hourly, jitter: 1h'),
    refused: /^hosts\.vpn\.jitter: jitter 1h must be shorter than the interval 1h/m,
  },
  {
    name: 'defaults jitter longer than the host interval',
    yaml: `${servers}defaults: { jitter: 2h }\nhosts: { vpn: { address: vpn, schedule: hourly } }`,
    refused: /^hosts\.vpn\.schedule: jitter 2h \(from defaults\) must be shorter than the interval 1h/m,
  },
  {
    name: 'schedule every 400d',
    yaml: host('schedule: { every: 400d }'),
    refused: /^hosts\.vpn\.schedule\.every: must be at most 366d: a year/m,
  },

  // Cron lines: ranges, syntax and whether they ever fire.
  {
    name: 'cron out of range',
    yaml: host('schedule: { cron: "99 99 * * *" }'),
    refused: /^hosts\.vpn\.schedule\.cron: minute 99 is out of range 0-59/m,
  },
  {
    name: 'cron that never fires (Feb 31)',
    yaml: host('schedule: { cron: "0 0 31 2 *" }'),
    refused: /^hosts\.vpn\.schedule\.cron: "0 0 31 2 \*" never fires/m,
  },
  { name: 'cron on Feb 30', yaml: host('schedule: { cron: "0 0 30 2 *" }'), refused: /never fires/m },
  {
    name: 'cron step 0',
    yaml: host('schedule: { cron: "*/0 * * * *" }'),
    refused: /^hosts\.vpn\.schedule\.cron: minute step in \*\/0 must be at least 1/m,
  },
  {
    name: 'cron weekday 8',
    yaml: host('schedule: { cron: "0 3 * * 8" }'),
    refused: /day-of-week 8 is out of range 0-7/m,
  },
  { name: 'cron month 13', yaml: host('schedule: { cron: "0 0 * 13 *" }'), refused: /month 13 is out of range 1-12/m },
  {
    name: 'cron range backwards',
    yaml: host('schedule: { cron: "5-1 * * * *" }'),
    refused: /minute range 5-1 runs backwards/m,
  },
  {
    name: 'cron with a seconds field',
    yaml: host('schedule: { cron: "0 0 3 * * *" }'),
    refused: /expected 5 fields .*got 6/m,
  },
  { name: 'cron @every', yaml: host('schedule: { cron: "@every 1h" }'), refused: /use \{ every: "6h" \} instead/m },

  // Blackout windows leaving no start.
  {
    name: 'blackout 00:00-23:59',
    yaml: host('blackout: ["00:00-23:59"]'),
    refused: /^hosts\.vpn\.blackout: the blackout windows together cover \(nearly\) the whole day/m,
  },
  {
    name: 'overlapping blackouts covering the day',
    yaml: host('blackout: ["22:00-12:00", "11:00-22:30"]'),
    refused: /^hosts\.vpn\.blackout: the blackout windows together cover/m,
  },
  {
    name: 'blackout 00:00-24:00',
    yaml: host('blackout: ["00:00-24:00"]'),
    refused: /^hosts\.vpn\.blackout\.0: expected a window such as/m,
  },

  // Servers and datasets.
  {
    name: 'two servers, one dataset name',
    yaml: 'servers: { b1: { dataset: data }, b2: { dataset: data } }\nhosts: {}',
    accepted:
      'each backup server has its own pool, often both called "data"; on one machine the dataset lease keeps their runs apart',
  },
  {
    name: 'one dataset inside another',
    yaml: 'servers: { b1: { dataset: data }, b2: { dataset: data/vpn } }\nhosts: {}',
    refused: /^servers\.b2\.dataset: dataset "data\/vpn" lies inside server b1's dataset "data"/m,
  },
  {
    name: 'dataset plus host name beyond ZFS limit',
    yaml: `servers: { b1: { dataset: ${'d'.repeat(200)} } }\nhosts: { ${'h'.repeat(60)}: { address: vpn } }`,
    refused:
      /^hosts\.h{60}: the dataset "d{200}\/h{60}" on server b1 is 261 characters and its snapshots add 34; ZFS allows 255/m,
  },

  // Host names.
  {
    name: '__proto__ as a host name',
    yaml: `${servers}hosts: { __proto__: { address: vpn } }`,
    refused: /^hosts\.__proto__: "__proto__" is not a valid name or key; remove it$/m,
  },
  {
    name: 'VPN and vpn',
    yaml: `${servers}hosts: { VPN: { address: a }, vpn: { address: b } }`,
    refused: /^hosts\.vpn: "VPN" and "vpn" name the same host \(host names are case-insensitive\)/m,
  },
  {
    name: 'a label over 63 characters',
    yaml: `${servers}hosts: { ${'a'.repeat(64)}.example.org: { address: vpn } }`,
    refused: /parts between dots are at most 63 characters/m,
  },
  {
    name: 'a host name over 253 characters',
    yaml: `${servers}hosts: { ${Array.from({ length: 5 }, () => 'a'.repeat(60)).join('.')}: { address: vpn } }`,
    refused: /at most 253 characters/m,
  },
  {
    name: 'a user name over 32 characters',
    yaml: host(`user: ${'u'.repeat(33)}`),
    refused: /^hosts\.vpn\.user: expected a user name/m,
  },

  // YAML itself: one line naming the file.
  { name: 'YAML syntax error', yaml: 'servers: { b1: { dataset: data }\nhosts: [', refused: /^inventory: .+/m },
  {
    name: 'alias bomb',
    yaml: `a: &a [x, x, x, x, x, x, x, x, x, x]\n${Array.from(
      { length: 9 },
      (_, i) =>
        `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10)
          .fill(`*${String.fromCharCode(97 + i)}`)
          .join(', ')}]`,
    ).join('\n')}\n`,
    refused: /^inventory: too many YAML aliases/m,
  },
  {
    name: 'duplicate host',
    yaml: `${servers}hosts:\n  vpn: { address: a }\n  vpn: { address: b }\n`,
    refused: /^inventory: Map keys must be unique: "vpn" appears again at line 4$/m,
  },
  {
    name: 'duplicate field',
    yaml: `${servers}hosts: { vpn: { address: a, port: 22, port: 2222 } }`,
    refused: /^inventory: Map keys must be unique: "port" appears again at line 2$/m,
  },
  {
    name: 'two YAML documents',
    yaml: `${servers}hosts: {}\n---\n${servers}hosts: {}\n`,
    refused: /^inventory: .*(multiple documents|document)/im,
  },
  { name: 'a list at the top', yaml: '- servers\n- hosts\n', refused: /^\(top level\): expected object/m },

  // Types and unknown keys.
  {
    name: 'unknown key',
    yaml: host('pathz: ["/"]'),
    refused: /^hosts\.vpn\.pathz: unknown key; remove it or check its spelling$/m,
  },
  { name: 'paths as a string', yaml: host('paths: "/"'), refused: /^hosts\.vpn\.paths: expected array, got "\/"$/m },
  {
    name: 'negative port',
    yaml: host('port: -1'),
    refused: /^hosts\.vpn\.port: expected an integer 1-65535, got -1$/m,
  },
  {
    name: 'fractional attempts',
    yaml: host('transfer: { attempts: 1.5 }'),
    refused: /^hosts\.vpn\.transfer\.attempts: expected int/m,
  },
  {
    name: 'unknown netbox key',
    yaml: withTop('netbox: { url: "https://nb.example.org", tokenEnv: NB, fillYamlHost: true }'),
    refused: /^netbox\.fillYamlHost: unknown key/m,
  },

  // Accepted, with the reason.
  {
    name: 'a space inside a copied path',
    yaml: host('paths: ["/srv/with space"]'),
    accepted: 'paths only reach rsync as an argument; rsync 3.2.4+ escapes it for the remote shell itself',
  },
  {
    name: '$(id) as an exclude pattern',
    yaml: host('excludes: ["$(id)"]'),
    accepted:
      'excludes are rsync filter lines on stdin, never a shell word: the pattern just matches a file of that name',
  },
  {
    name: 'an exclude for a few top directories',
    yaml: host('excludes: ["/[a-e]*"]'),
    accepted: 'matches 3 of the 10 sample paths (/etc, /boot, /a): odd, but not everything',
  },
  { name: 'dot files excluded', yaml: host('excludes: [".*"]'), accepted: 'matches hidden names only' },
  { name: 'jitter 0s', yaml: host('jitter: 0s'), accepted: '"0s" turns the random delay off; it is not a timer' },
  {
    name: 'a host named constructor',
    yaml: `${servers}hosts: { constructor: { address: vpn } }`,
    accepted: 'a valid DNS name; lookups use own properties only',
  },
  {
    name: 'blackout leaving an hour',
    yaml: host('blackout: ["00:00-12:00", "12:00-23:00"]'),
    accepted: 'an hour a day is enough to start a run',
  },
  {
    name: 'cron on Friday the 13th',
    yaml: host('schedule: { cron: "0 3 13 * 5" }'),
    accepted: 'fires a few times a year (day and weekday must both match)',
  },
  { name: 'cron on Feb 29', yaml: host('schedule: { cron: "0 3 29 2 *" }'), accepted: 'fires in leap years' },
];

test(`${cases.length} hostile or odd inventories: refused naming the field, or accepted for the reason given`, () => {
  assert.ok(cases.length >= 60);
  for (const entry of cases) {
    if ('accepted' in entry) {
      assert.doesNotThrow(() => parseInventory(entry.yaml), `${entry.name} should be accepted: ${entry.accepted}`);
      continue;
    }
    assert.throws(
      () => parseInventory(entry.yaml),
      (error: Error & { code?: string }) => {
        assert.equal(error.code, 'CONFIG_INVALID', `${entry.name}: ${error.stack}`);
        assert.match(error.message, entry.refused, entry.name);
        // One printable line per problem: no control character reaches the operator's terminal.
        assert.ok(
          // eslint-disable-next-line no-control-regex -- the control characters are what this looks for
          !/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e]/u.test(error.message),
          `${entry.name}: ${JSON.stringify(error.message)}`,
        );
        return true;
      },
      entry.name,
    );
  }
});

test('host names are stored lower-case; lookups use own properties and ignore case', () => {
  const inventory = parseInventory(
    `${servers}hosts: { VPN: { address: vpn.example.org }, constructor: { address: c } }`,
  );
  assert.deepEqual(Object.keys(inventory.hosts), ['vpn', 'constructor']);
  assert.equal(resolveHost(inventory, 'Vpn').host, 'vpn');
  assert.equal(resolveHost(inventory, 'constructor').address, 'c');
  for (const name of ['toString', '__proto__', 'hasOwnProperty']) {
    assert.throws(
      () => resolveHost(inventory, name),
      (error: Error & { code?: string }) => error.code === 'UNKNOWN_HOST',
      name,
    );
  }
});

test('50 problems at most are printed, then a count', () => {
  const hosts = Array.from({ length: 70 }, (_, i) => `h${i}: { address: a, port: 0 }`).join(', ');
  assert.throws(
    () => parseInventory(`${servers}hosts: { ${hosts} }`),
    (error: Error) => {
      const lines = error.message.split('\n');
      assert.equal(lines.length, 51);
      assert.equal(lines.at(-1), '... and 20 more problems');
      return true;
    },
  );
});

test('`tidemark config check` exits 2 with one line per problem and no stack trace', async () => {
  const dir = mkdtempSync('/tmp/tidemark-hostile-');
  const picked = [
    'command substitution in a path',
    'CR ends an rsync filter line',
    'exclude /[a-z]*',
    'ESC in a key',
    'retryInterval above the retry cap',
    'cron that never fires (Feb 31)',
    'blackout 00:00-23:59',
    'one dataset inside another',
    'VPN and vpn',
    'alias bomb',
    'duplicate host',
    'YAML syntax error',
    'dataset plus host name beyond ZFS limit',
  ];
  await Promise.all(
    picked.map(async (name, index) => {
      const entry = cases.find((candidate) => candidate.name === name) as Refused | undefined;
      assert.ok(entry && 'refused' in entry, name);
      const file = join(dir, `case-${index}.yaml`);
      writeFileSync(file, entry.yaml);
      const result = await execa(process.execPath, [cliPath, '--config', file, 'config', 'check'], { reject: false });
      assert.equal(result.exitCode, 2, `${name}: ${result.stderr}`);
      assert.equal(result.stdout, '');
      const lines = result.stderr.split('\n');
      assert.match(lines[0]!, /^tidemark: /);
      // YAML problems name the file itself; the table's patterns say "inventory" for it.
      assert.match(result.stderr.replace(/^tidemark: /, '').replace(file, 'inventory'), entry.refused, name);
      if (/YAML|alias|duplicate/.test(name)) assert.ok(result.stderr.startsWith(`tidemark: ${file}: `), result.stderr);
      assert.ok(!/\n\s+at /.test(result.stderr), `${name}: a stack trace: ${result.stderr}`);
      if (/YAML|alias|duplicate/.test(name)) assert.equal(lines.length, 1, `${name}: ${result.stderr}`);
    }),
  );
});

test("the host's exclude file: lines that would empty the copy are skipped and reported, the rest kept", () => {
  const text = [
    '*',
    '?*',
    '/?*',
    '/[a-z]*',
    '*/',
    '/*/*',
    '/[a-m]*',
    '/[n-z]*',
    '*.tmp',
    '/var/cache/',
    '/srv/app/*',
    '/nothing\r*',
  ].join('\n');
  const whole = parseExcludeFile(text);
  assert.deepEqual(whole.patterns, ['/[a-m]*', '*.tmp', '/var/cache/', '/srv/app/*']);
  assert.deepEqual(
    whole.malformed.map((problem) => [problem.line, problem.reason.replace(/ \(it matches.*/, '')]),
    [
      [1, 'would exclude everything under /'],
      [2, 'would exclude everything under /'],
      [3, 'would exclude everything under /'],
      [4, 'would exclude everything under /'],
      [5, 'would exclude everything under /'],
      [6, 'would exclude everything under /'],
      [8, 'together with the patterns before it, would exclude everything under /'],
      [12, 'contains a control character'],
    ],
  );
  // With explicit paths, a line emptying one of them is refused too.
  assert.deepEqual(
    parseExcludeFile('/srv/app/*\n', ['/etc', '/srv/app']).malformed.map((problem) => problem.line),
    [1],
  );
});
