// The inventory file's shape (the public contract): validated with zod, strict about unknown keys.
import { isIP } from 'node:net';
import { z } from 'zod';
import { excludeFileProblem, safeRemotePath } from '../domain/host-steps.js';
import { parseDuration } from '../domain/duration.js';
import { retentionClasses, type RetentionClass } from '../domain/retention.js';
import { excludesEverything } from '../domain/rsync-pattern.js';
import { rsyncOptionProblem } from '../domain/rsync-options.js';
import {
  absolutePathSchema,
  boundedDuration,
  durations,
  hostFolderSchema,
  integerRange,
  rsyncPathSchema,
} from './field-rules.js';
import { applyGroups } from './groups.js';
import { inventoryChecks } from './inventory-checks.js';
import { isTimeZone, netboxSchema, scheduleSettingsShape, syncSchema } from './schedule-schema.js';
import { notifyListSchema, serverMonitoringShape } from './notify-schema.js';

/** Host and server names become dataset components, task queues and workflow ids (DNS rules: labels of
 * at most 63 characters, 253 in all). Host names are matched case-insensitively and stored lower-case. */
export const nameSchema = z
  .string({ error: 'expected a host name' })
  .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i, {
    error: 'expected a host name (letters, digits, "-" and "."), e.g. "vpn" or "vpn.example.org"',
  })
  .max(253, { error: 'expected a host name of at most 253 characters' })
  .refine((name) => name.split('.').every((label) => label.length <= 63), {
    error: 'expected a host name whose parts between dots are at most 63 characters',
  });

/** An IP address, or one with a prefix length ("10.0.0.0/24"), as sshd's from="..." takes it. */
function isSourceAddress(text: string): boolean {
  const [ip, prefix, ...rest] = text.split('/');
  const family = isIP(ip ?? '');
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

/** ZFS dataset names: components of letters, digits and _ . : - with no "..", spaces or empty parts. */
const datasetSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]*(\/[A-Za-z0-9_.:-]+)*$/, {
    error: 'expected a ZFS dataset name such as "data" or "tank/backup" (no spaces, no leading or trailing "/")',
  })
  .refine((name) => !name.split('/').some((part) => part === '.' || part === '..'), {
    error: 'a dataset name may not contain "." or ".." components',
  });

/** Files handed to ssh inside rsync's --rsh string, which rsync splits on whitespace and quotes. */
const sshFileSchema = z
  .string({ error: 'expected an absolute path starting with "/"' })
  .refine((path) => !/[\s'"\\]/.test(path), {
    error: 'an ssh file path may not contain spaces, quotes or backslashes',
    abort: true,
  })
  .pipe(absolutePathSchema);

/** Anything that ends in a Node timer: at least a second, below the timer limit. */
const durationExamples = '"30s", "10m", "1h30m" or "7d"';
const timerDuration = (minWhy: string) => boundedDuration({ example: durationExamples, min: durations.second, minWhy });

/** rsync filter rules: one pattern a line on rsync's stdin (never a shell, so wildcards and most
 * punctuation are fine); judged by what it matches (domain/rsync-pattern.ts). */
const excludeSchema = z
  .string({ error: 'expected an rsync exclude pattern such as "/var/cache/" or "*.tmp"' })
  .min(1, { error: 'an exclude pattern may not be empty', abort: true })
  .max(4096, { error: 'an exclude pattern may be at most 4096 characters' })
  .refine((pattern) => pattern.trim() === pattern, {
    error: 'an exclude pattern may not start or end with whitespace (rsync would take it literally)',
    abort: true,
  })
  .superRefine((pattern, ctx) => {
    const problem = excludesEverything([pattern]);
    if (problem) ctx.addIssue({ code: 'custom', message: `refused: ${problem}` });
  });

const transferSchema = z
  .object({
    ioTimeout: timerDuration('rsync counts --timeout in whole seconds and 0 turns stall detection off')
      .optional()
      .describe('rsync --timeout: give up when no data moves for this long. Default "10m".'),
    heartbeatTimeout: timerDuration('a dead worker must still be noticed; 0 turns the check off')
      .optional()
      .describe('How soon a silent transfer (dead worker) is noticed and retried. Default "60s".'),
    attempts: z
      .int()
      .min(1, { error: 'expected an integer 1-100' })
      .max(100, { error: 'expected an integer 1-100' })
      .optional()
      .describe('Attempts for a transfer failing on network/ssh errors, the first included. Default 5.'),
    retryInterval: boundedDuration({
      example: durationExamples,
      min: durations.second,
      minWhy: 'retries faster than once a second hammer a host that is down',
      max: 10 * durations.minute,
      maxWhy: 'the retry policy doubles the wait up to 10m, and Temporal refuses a first wait above that',
    })
      .optional()
      .describe('Wait before the first retry; doubles each time up to 10m. Default "30s".'),
    bandwidthLimit: z
      .string({ error: 'expected a rate such as "500K" or "10M"' })
      .regex(/^[1-9]\d*[KMG]?$/, { error: 'expected a rate such as "500K" or "10M"' })
      .optional()
      .describe('rsync --bwlimit, e.g. "10M" (bytes per second, K/M/G suffix). Default: unlimited.'),
    rsyncOptions: z
      .array(
        z.string({ error: 'expected an rsync option such as "--iconv=utf8,latin1"' }).superRefine((option, ctx) => {
          const problem = rsyncOptionProblem(option);
          if (problem) ctx.addIssue({ code: 'custom', message: `refused: ${problem}` });
        }),
      )
      .optional()
      .describe(
        'Extra rsync options from an allow-list: --iconv=, --checksum, --compress, --compress-level=, --bwlimit=, --no-inc-recursive, --block-size=, --whole-file; "--opt=" (nothing after "=") removes Tidemark\'s own --opt (PlanB\'s rule), for --sparse, --hard-links, --acls, --xattrs, --timeout, --inplace.',
      ),
    ionice: z
      .object(
        {
          class: z
            .enum(['idle', 'best-effort'], { error: 'expected "idle" or "best-effort"' })
            .describe('ionice -c 3 (idle) or -c 2 (best-effort).'),
          level: integerRange(0, 7, 'expected a level 0 (highest) to 7 (lowest)')
            .optional()
            .describe('best-effort only: ionice -n LEVEL.'),
        },
        { error: 'expected a mapping such as { class: best-effort, level: 7 }' },
      )
      .strict()
      .refine((ionice) => ionice.class === 'best-effort' || ionice.level === undefined, {
        error: 'a level applies to class best-effort only; remove it for idle',
      })
      .optional()
      .describe(
        'Run rsync on the host under ionice (its --rsync-path; `tidemark host-setup` prints the matching filter and sudoers lines).',
      ),
    nice: integerRange(0, 19, 'expected a niceness 0-19')
      .optional()
      .describe('Run rsync on the host under nice -n N (0-19).'),
    checksumEvery: boundedDuration({
      example: durationExamples,
      min: 60 * durations.minute,
      minWhy: 'a --checksum run reads every file on both sides',
      max: 3650 * durations.day,
      maxWhy: 'ten years',
    })
      .optional()
      .describe(
        'Every this long one run is a --checksum run (compares contents, not size and time), e.g. "30d"; spread over the fleet by host name, shown in the run\'s summary. Default: never.',
      ),
  })
  .strict();

/** A jump host (OpenSSH ProxyJump, run as a ProxyCommand so it gets the same checks as the host's login). */
const jumpHostSchema = z
  .object(
    {
      address: z
        .string({ error: 'expected the jump host, a host name or IP address' })
        .refine((text) => isIP(text) !== 0 || (text.length <= 253 && nameSchema.safeParse(text).success), {
          error: 'expected the jump host, a host name or IP address',
        })
        .describe('The jump host: a DNS name or an IP address.'),
      port: integerRange(1, 65535).optional().describe('Its ssh port. Default 22.'),
      user: z
        .string()
        .regex(/^[a-z_][a-z0-9_.-]{0,31}$/i, { error: 'expected a user name such as "jump"' })
        .optional()
        .describe("The user on the jump host. Default: the host's user."),
      knownHostsFile: sshFileSchema
        .optional()
        .describe("The jump host's own known_hosts (it must be listed there). Default: ssh.knownHostsFile."),
    },
    { error: 'expected a mapping such as { address: bastion.example.org }' },
  )
  .strict();

const retentionCountSchema = z
  .int({ error: 'expected a whole number of periods, 0 or more' })
  .min(0, { error: 'expected a whole number of periods, 0 or more' })
  .optional()
  .describe('Keep the newest snapshot of each of this many newest periods (hours, days, ...); 0 keeps none.');

/** Which snapshots to keep. Fields merge over `defaults.retention`; a class left out or 0 keeps
 * none of that class, but when no class is set anywhere the counts are daily 7, weekly 4, monthly 12,
 * yearly 3. weekStartsOn defaults to 1 (Monday); the zone is the host's `timezone` (default UTC). */
const retentionSchema = z
  .object(
    {
      ...(Object.fromEntries(retentionClasses.map((cls) => [cls, retentionCountSchema])) as Record<
        RetentionClass,
        typeof retentionCountSchema
      >),
      keepWithin: boundedDuration({
        example: durationExamples,
        min: 0,
        minWhy: '',
        max: 36_500 * durations.day,
        maxWhy: 'a century',
      })
        .optional()
        .describe('Every complete snapshot younger than this is kept, e.g. "36h".'),
      timeZone: z
        .string({ error: 'expected an IANA time zone such as "Europe/Amsterdam"' })
        .refine(isTimeZone, { error: 'expected an IANA time zone such as "Europe/Amsterdam"' })
        .optional()
        .describe("Deprecated: the host's `timezone` sets the zone of retention too. Still honoured, with a WARNING."),
      weekStartsOn: integerRange(0, 6, 'expected 0 (Sunday) to 6 (Saturday)')
        .optional()
        .describe('First day of a retention week: 0 Sunday to 6 Saturday. Default 1 (Monday).'),
    },
    { error: 'expected a mapping such as { daily: 7, weekly: 4, monthly: 12, yearly: 3 }' },
  )
  .strict();

const percentSchema = z
  .number({ error: 'expected a percentage 1-100' })
  .min(1, { error: 'expected a percentage 1-100' })
  .max(100, { error: 'expected a percentage 1-100' });

/** Data-safety thresholds (domain/guards.ts holds the defaults and what each does). */
const guardsSchema = z
  .object({
    maxDeletePercent: percentSchema
      .optional()
      .describe("rsync --max-delete as a share of the last complete snapshot's files. Default 25."),
    maxDeleteMin: integerRange(0, 10_000_000, 'expected a whole number of files, 0-10000000')
      .optional()
      .describe('Deletions always allowed, however small the tree. Default 50.'),
    shrinkPercent: percentSchema
      .optional()
      .describe('A drop in files or bytes beyond this marks the snapshot suspect. Default 30.'),
    maxAnomalySnapshots: z
      .int({ error: 'expected an integer 1-1000' })
      .min(1, { error: 'expected an integer 1-1000 (partial and suspect snapshots kept)' })
      .max(1000, { error: 'expected an integer 1-1000' })
      .optional()
      .describe('Partial and suspect snapshots kept beyond the newest complete one. Default 7.'),
    partialRunsBeforeFailed: integerRange(1, 1000)
      .optional()
      .describe('Partial runs in a row reported to monitoring as FAILED. Default 3.'),
    heldRunsBeforeFailed: integerRange(1, 1000)
      .optional()
      .describe(
        'Runs in a row held back by the same guard (shrink held or suspect, a filesystem not mounted) reported to monitoring and `status` as FAILED/CRITICAL. Default 3.',
      ),
  })
  .strict();

/** Free space a run must leave in the pool: bytes ("50G") or a share of the pool ("5%"). */
const reserveSchema = z
  .string({ error: 'expected a size such as "50G" or a share such as "5%"' })
  .regex(/^(\d+(\.\d+)?%|\d+[KMGT]?)$/, {
    error: 'expected a size such as "50G" (K/M/G/T) or a share of the pool such as "5%"',
  });

/** Paths written into the fixed commands Tidemark runs on the host (through its shell): a strict alphabet. */
const remotePathSchema = absolutePathSchema.refine((path) => safeRemotePath.test(path), {
  error: "expected an absolute path of letters, digits and . _ + - only (it is passed to the host's shell)",
});

/** Hook scripts on the host, run with run-parts before rsync (SOWN). */
const hooksSchema = z
  .object({
    dir: remotePathSchema.optional().describe('Default /etc/backup-scripts/; a missing directory means no hooks.'),
    timeout: timerDuration('timeout(1) on the host counts in seconds, and 0 means no timeout')
      .optional()
      .describe('Default "30m".'),
    onFailure: z
      .enum(['continue', 'abort'], { error: 'expected "continue" or "abort"' })
      .optional()
      .describe('Default "continue": the run is FAILED but still copied and snapshotted; "abort" skips both.'),
  })
  .strict();

/** PlanB's host-side veto: files in `dir` postpone the run. */
const vetoSchema = z
  .object({
    dir: remotePathSchema.optional().describe('Default /var/lib/backup/do-not-run.d/.'),
    retryInterval: timerDuration('each check is an ssh login to the host').optional().describe('Default "1h".'),
    retries: integerRange(0, 1000).optional().describe('Checks after the first; default 24.'),
  })
  .strict();

const includeItemSchema = z
  .string({ error: 'expected a path relative to the selection root, e.g. "etc" or "var/backups"' })
  .regex(/^[^/\s]/, {
    error: 'expected a path relative to the selection root, e.g. "etc" or "var/backups"',
    abort: true,
  })
  .max(4096, { error: 'an include path may be at most 4096 characters' })
  .refine((path) => path.trimEnd() === path, {
    error: 'an include path may not end with whitespace (rsync would take it literally)',
  })
  .refine((path) => !path.split('/').some((part) => part === '..' || part === '.'), {
    error: 'an include path may not contain "." or ".." components',
  });

/** `tidemark status`: multiples of a pair's schedule interval after which its last success is stale
 * (WARNING, default 2) and critical (CRITICAL, default 4); client/fleet-verdict.ts. */
const multipleSchema = z
  .number({ error: 'expected a multiple of the schedule interval, 1-1000, e.g. 2 or 1.5' })
  .min(1, { error: 'expected a multiple of the schedule interval, 1-1000, e.g. 2 or 1.5' })
  .max(1000, { error: 'expected a multiple of the schedule interval, 1-1000, e.g. 2 or 1.5' });
const stalenessShape = {
  staleAfter: multipleSchema
    .optional()
    .describe(
      '`tidemark status`: WARNING when the last success is older than this many schedule intervals. Default 2.',
    ),
  criticalAfter: multipleSchema
    .optional()
    .describe(
      '`tidemark status`: CRITICAL when the last success is older than this many schedule intervals. Default 4.',
    ),
};

/** Scheduled restore drills (`tidemark verify` run by the worker on a schedule): how often, how many files.
 * Fields merge host > group > defaults > server (inventory/resolve.ts resolveVerify). */
const verifySchema = z
  .object({
    every: z
      .string({ error: 'expected a drill period such as "7d" or "12h" (at least 1h)' })
      .refine((text) => (parseDuration(text) ?? 0) >= 3_600_000, {
        error: 'expected a drill period such as "7d" or "12h" (at least 1h)',
      })
      .optional()
      .describe('How often a restore drill runs for each (host, server), e.g. "7d". Required to schedule drills.'),
    sample: z
      .int({ error: 'expected a number of files from 1 to 100000, e.g. 200' })
      .min(1, { error: 'expected a number of files from 1 to 100000, e.g. 200' })
      .max(100_000, { error: 'expected a number of files from 1 to 100000, e.g. 200' })
      .optional()
      .describe('Files each drill samples (as `tidemark verify --sample`). Default 200.'),
  })
  .strict();

/** Settings a host may have, each also settable once under `defaults`. */
const hostSettingsShape = {
  port: integerRange(1, 65535).optional().describe('ssh port. Default 22.'),
  user: z
    .string()
    .regex(/^[a-z_][a-z0-9_.-]{0,31}$/i, {
      error: 'expected a user name such as "root" or "backup" (letters, digits, _ . -, at most 32)',
    })
    .optional()
    .describe('ssh user on the host. Default root.'),
  sudo: z
    .boolean({ error: 'expected true or false' })
    .optional()
    .describe('true: the remote rsync (and hooks) run through sudo -n. Default false.'),
  paths: z
    .array(rsyncPathSchema)
    .min(1, { error: 'list at least one path, e.g. ["/"]' })
    .optional()
    .describe(
      'Copied by rsync: ASCII letters, digits, "/" and . _ + -, plus single spaces inside names (the alphabet the host\'s ssh filter admits).',
    ),
  excludes: z
    .array(excludeSchema)
    .optional()
    .describe('rsync exclude patterns, after defaults.excludes and the built-in list.'),
  servers: z
    .array(nameSchema)
    .min(1, { error: 'list at least one server, or leave "servers" out for every server' })
    .optional()
    .describe('Backup servers that back this host up. Default: every server.'),
  transfer: transferSchema
    .optional()
    .describe('How rsync runs: timeouts, attempts, bandwidth, extra options, ionice/nice on the host, checksum runs.'),
  ssh: z
    .object({ jumpHost: jumpHostSchema.optional().describe('Reach the host through this jump host (ProxyJump).') })
    .strict()
    .optional()
    .describe('How the host is reached by ssh (the inventory-wide `ssh:` sets the key and known_hosts).'),
  hooks: hooksSchema.optional().describe('Hook scripts on the host, run with run-parts before rsync (SOWN).'),
  veto: vetoSchema.optional().describe("PlanB's do-not-run directory: files in it postpone the run."),
  selectionRoot: hostFolderSchema
    .optional()
    .describe('Without `paths`: every local filesystem mounted at or under this directory (default "/").'),
  includeNetworkMounts: z
    .boolean({ error: 'expected true or false' })
    .optional()
    .describe('Without `paths`: also copy network filesystems (nfs, cifs, ...). Default false.'),
  includeFilesystemTypes: z
    .array(z.string().regex(/^[a-z0-9_.+-]+$/i, { error: 'expected a filesystem type such as "fuse.mergerfs"' }))
    .optional()
    .describe('Filesystem types copied besides the built-in local ones, e.g. ["fuse.mergerfs"].'),
  include: z
    .array(includeItemSchema)
    .min(1, { error: 'list at least one path, or leave "include" out to copy everything' })
    .optional()
    .describe('PlanB-style allow-list relative to the selection root, e.g. ["etc", "home", "var/backups"].'),
  excludeFile: remotePathSchema
    .superRefine((path, context) => {
      const problem = excludeFileProblem(path);
      if (problem) context.addIssue({ code: 'custom', message: problem });
    })
    .optional()
    .describe("The host's own exclude file, read at backup time. Default /etc/backup-exclude.conf."),
  restoreRoot: remotePathSchema
    .optional()
    .describe(
      'Directory on the host that `restore --to-host` writes under (default /var/lib/tidemark/restore; the default target is a fresh 0700 <restoreRoot>/<snapshot>-<nonce>/, made over ssh after checking the root). On a host set up with `host-setup`, its ssh filter admits a receiving rsync only beneath it.',
    ),
  standardExcludes: z
    .boolean({ error: 'expected true or false' })
    .optional()
    .describe('The built-in excludes for full-system backups (default true).'),
  retention: retentionSchema
    .optional()
    .describe(
      "Which snapshots to keep after each SUCCESS or WARNING backup. Without any class set anywhere: daily 7, weekly 4, monthly 12, yearly 3, in the host's `timezone`.",
    ),
  quota: z
    .string({ error: 'expected a size such as "500G"' })
    .regex(/^\d+[KMGT]?$/, { error: 'expected a size such as "500G" (K/M/G/T)' })
    .optional()
    .describe(
      'ZFS quota of the host\'s dataset (copy and snapshots), e.g. "500G": one host cannot fill the shared pool.',
    ),
  guards: guardsSchema.optional().describe('Shrink guard, anomaly cap, partial escalation (domain/guards.ts).'),
  /** schedule, jitter, timezone, blackout, enabled (inventory/schedule-schema.ts). */
  ...scheduleSettingsShape,
  ...stalenessShape,
  verify: verifySchema
    .optional()
    .describe('Scheduled restore drills: `{ every: "7d", sample: 200 }` (docs/how-to/verify-drills.md). Unset: none.'),
};

/** What a group may set: anything a host can, besides its address (inventory/groups.ts merges it). */
const groupSettingsShape = {
  ...hostSettingsShape,
  replicateFrom: z
    .union([nameSchema, z.literal(false)], {
      error:
        'expected the name of the server that pulls this host (its other servers take their copies from it by ZFS replication), or false (every server pulls the host itself)',
    })
    .optional()
    .describe(
      "This host's copy is pulled by this server and its other servers take theirs from it by ZFS replication; false: every server pulls the host itself. Over the servers' own `servers.<name>.replicateFrom` (host > group > server; docs/how-to/off-site-copies.md).",
    ),
  notify: notifyListSchema
    .optional()
    .describe(
      "Monitoring targets told about this host's runs, besides the top-level and the server's `notify`. A host's own list replaces its group's (`notify: []` opts out).",
    ),
};

const hostSchema = z
  .object({
    address: z
      .string({ error: 'expected the ssh target, a host name or IP address' })
      .refine((text) => isIP(text) !== 0 || (text.length <= 253 && nameSchema.safeParse(text).success), {
        error: 'expected the ssh target, a host name or IP address',
      })
      .describe('The ssh target: a DNS name or an IP address.'),
    group: nameSchema
      .optional()
      .describe(
        'The `groups:` entry whose settings this host takes: defaults < group < host (docs/how-to/groups-and-transfer-options.md).',
      ),
    ...groupSettingsShape,
  })
  .strict();

const serverSchema = z
  .object({
    dataset: datasetSchema.describe('Parent ZFS dataset: host H is stored in <dataset>/H.'),
    address: z
      .string({ error: 'expected an IP address or CIDR range such as "192.0.2.10" or "2001:db8::/64"' })
      .refine((text) => isSourceAddress(text), {
        error:
          'expected an IP address or CIDR range such as "192.0.2.10" or "2001:db8::/64" (no host names: sshd matches from="..." by address)',
      })
      .optional()
      .describe(
        'This server\'s address as the backed-up hosts see its ssh connections: an IP address or a CIDR range. `tidemark host-setup` puts it in the key\'s from="..." (sshd matches host names there only with UseDNS, so none are taken). Optional: without it the key is not tied to an address.',
      ),
    concurrency: z
      .int()
      .min(1, { error: 'expected an integer 1-64' })
      .max(64, { error: 'expected an integer 1-64' })
      .optional()
      .describe('Transfers this server runs at once. Default 2.'),
    /** notify (targets of this server only), metrics, stateFile: inventory/notify-schema.ts. */
    ...serverMonitoringShape,
    /** How stale its pairs may get in `tidemark status` (a host's own setting wins). */
    ...stalenessShape,
    verify: verifySchema
      .optional()
      .describe("Scheduled restore drills of this server's hosts (a host's, group's or `defaults`' fields win)."),
    reserve: reserveSchema
      .optional()
      .describe('Free space every run must leave in the pool after its expected write. Default "5%".'),
    hooks: z
      .object({
        before: absolutePathSchema
          .optional()
          .describe(
            "Script run on the backup server before the host's hooks; its failure fails the run, nothing copied.",
          ),
        after: absolutePathSchema
          .optional()
          .describe(
            'Script run on the backup server at the end of every run (also failed ones); its failure turns SUCCESS into WARNING.',
          ),
        timeout: timerDuration('a server hook needs time to run; 0 would kill it at once')
          .optional()
          .describe('Time each server script may take. Default "30m".'),
      })
      .strict()
      .optional()
      .describe("Scripts on this backup server, run before the host's hooks and at the end of each run."),
    restore: z
      .object({
        roots: z
          .array(absolutePathSchema)
          .min(1, { error: 'expected at least one directory' })
          .optional()
          .describe('Local `--to` directories must lie under one of these. Default [/var/lib/tidemark/restore].'),
        overwriteLiveSystem: z
          .boolean({ error: 'expected true or false' })
          .optional()
          .describe('Allow `--to /` and `--target-dir /` (writing over a live system). Default false.'),
      })
      .strict()
      .optional()
      .describe('Where restores run by this server may write (docs/explanation/security-model.md).'),
    replicateFrom: nameSchema
      .optional()
      .describe(
        "Take each host's copy from this other server by ZFS replication instead of pulling the host (docs/how-to/off-site-copies.md); the host must list both servers.",
      ),
    receive: z
      .object({
        address: z.string({ error: 'expected the ssh target, a host name or IP address' }).min(1),
        port: integerRange(1, 65535).optional(),
        user: z
          .string()
          .regex(/^[a-z_][a-z0-9_.-]{0,31}$/i, { error: 'expected a user name such as "root" or "tidemark"' })
          .optional()
          .describe('Default "root".'),
      })
      .strict()
      .optional()
      .describe("How other servers reach this one's sshd to send it replicas (its forced-command receive filter)."),
    replication: z
      .object({
        failoverAfter: timerDuration('failover needs a threshold of at least a second')
          .optional()
          .describe('No complete snapshot from the source for this long: pull the host directly. Default "36h".'),
        bandwidthLimit: z
          .string({ error: 'expected a rate such as "500K" or "10M"' })
          .regex(/^[1-9]\d*[KMG]?$/, { error: 'expected a rate such as "500K" or "10M"' })
          .optional()
          .describe('Rate limit of the send, e.g. "10M" (bytes per second, K/M/G suffix). Default: unlimited.'),
        retention: retentionSchema
          .optional()
          .describe("The retention of the replicas on this server, instead of the hosts' own (it may keep longer)."),
        staleAfter: multipleSchema
          .optional()
          .describe(
            "`tidemark status` and the console: WARNING when a host's newest replicated snapshot here is older than this many of the host's schedule intervals. Default: the pair's own staleAfter (2).",
          ),
        criticalAfter: multipleSchema
          .optional()
          .describe(
            "`tidemark status` and the console: CRITICAL when a host's newest replicated snapshot here is older than this many of the host's schedule intervals. Default: the pair's own criticalAfter (4).",
          ),
      })
      .strict()
      .optional()
      .describe('Replication settings of this server as a target (replicateFrom).'),
    adopt: z
      .object(
        {
          sown: z
            .boolean({ error: 'expected true or false' })
            .optional()
            .describe(
              "Rotate SOWN's backup-daily-YYYY-MM-DD snapshots as complete copies. Default false (left alone as foreign).",
            ),
          planb: z
            .boolean({ error: 'expected true or false' })
            .optional()
            .describe("Rotate PlanB's planb-YYYYmmddTHHMMZ snapshots as complete copies. Default false."),
        },
        { error: 'expected a mapping such as { sown: true, planb: true }' },
      )
      .strict()
      .optional()
      .describe('Rotate snapshots of the systems Tidemark replaces as complete copies (off: left alone as foreign).'),
  })
  .strict();

export const inventorySchema = z
  .object({
    temporal: z
      .object({
        address: z
          .string()
          .regex(/^[^\s:]+:\d{1,5}$/, { error: 'expected host:port, e.g. "127.0.0.1:7233"' })
          .optional()
          .describe(
            "host:port of the Temporal frontend. Default 127.0.0.1:7233 (or the profile's, or TEMPORAL_ADDRESS).",
          ),
        namespace: z
          .string()
          .regex(/^[A-Za-z0-9._-]{1,255}$/, {
            error: 'expected a Temporal namespace such as "default" (letters, digits, . _ -)',
          })
          .optional()
          .describe('Temporal namespace. Default "default".'),
        uiUrl: z
          .url()
          .optional()
          .describe('Base URL of the Temporal Web UI, for links. Default http://<address host>:8233.'),
        profile: z
          .string()
          .regex(/^[A-Za-z0-9._-]{1,100}$/, {
            error: 'expected a profile name of temporal.toml such as "default" or "prod"',
          })
          .optional()
          .describe("A profile of temporal.toml (the Temporal CLI's client config file) to start from."),
        configFile: absolutePathSchema
          .optional()
          .describe('temporal.toml itself. Default $TEMPORAL_CONFIG_FILE, else ~/.config/temporalio/temporal.toml.'),
        apiKeyFile: absolutePathSchema
          .optional()
          .describe('Temporal Cloud API key, as a file (secrets never sit in the inventory). Turns TLS on.'),
        tls: z
          .preprocess(
            (value) => (value === true ? {} : value === false ? { disabled: true } : value),
            z
              .object(
                {
                  disabled: z
                    .boolean({ error: 'expected true or false' })
                    .optional()
                    .describe('true: plain, whatever the profile says (what tls: false means).'),
                  /** The name the server certificate must carry, when it differs from the address's host. */
                  serverName: z
                    .string()
                    .regex(/^[A-Za-z0-9.-]{1,253}$/, { error: 'expected a DNS name such as "temporal.example.org"' })
                    .optional()
                    .describe("The name the server certificate must carry, when it differs from the address's host."),
                  /** PEM CA bundle the server's certificate must chain to. Default: the system's trusted CAs. */
                  serverCaCertFile: absolutePathSchema
                    .optional()
                    .describe(
                      "PEM CA bundle the server's certificate must chain to. Default: the system's trusted CAs.",
                    ),
                  /** PEM client certificate and its key, for servers that require mutual TLS. */
                  clientCertFile: absolutePathSchema
                    .optional()
                    .describe('PEM client certificate, for servers that require mutual TLS (with clientKeyFile).'),
                  clientKeyFile: absolutePathSchema.optional().describe('Its private key (mode 0600).'),
                },
                {
                  error:
                    'expected true, false or a mapping such as { serverCaCertFile: /etc/tidemark/temporal-ca.pem }',
                },
              )
              .strict()
              .refine((tls) => (tls.clientCertFile === undefined) === (tls.clientKeyFile === undefined), {
                error: 'clientCertFile and clientKeyFile go together: give both files (mutual TLS) or neither',
              }),
          )
          .optional()
          .describe(
            "true: TLS with the system's trusted CAs; a mapping: TLS with these settings; false (or disabled: true): plain, whatever the profile says. The booleans become mappings, so one shape follows.",
          ),
      })
      .strict()
      .optional(),
    ssh: z
      .object({
        identityFile: sshFileSchema
          .optional()
          .describe("The backup server's ssh private key. Default /etc/tidemark/id_ed25519."),
        knownHostsFile: sshFileSchema
          .optional()
          .describe("The hosts' ssh keys; a host not listed is refused. Default /etc/tidemark/known_hosts."),
        multiplex: z
          .boolean()
          .optional()
          .describe('One ssh login per run shared by probe, hooks and rsync (OpenSSH ControlMaster). Default true.'),
        controlDir: sshFileSchema
          .optional()
          .describe(
            "Folder for the runs' control sockets (made 0700; a symlink, a file or a folder others can enter there means no multiplexing). Default /run/tidemark/ssh for root, else $XDG_RUNTIME_DIR/tidemark-ssh or <tmpdir>/tidemark-ssh-<uid>.",
          ),
      })
      .strict()
      .optional(),
    servers: z
      .record(nameSchema, serverSchema, {
        error: 'expected a mapping of backup servers, e.g. servers: { backup-1: { dataset: data } }',
      })
      .refine((servers) => Object.keys(servers).length > 0, {
        error: 'define at least one backup server, e.g. servers: { backup-1: { dataset: data } }',
      })
      .describe('The backup servers, by name (the name of `tidemark worker --server NAME`).'),
    defaults: z.object(hostSettingsShape).strict().optional(),
    groups: z
      .record(nameSchema, z.object(groupSettingsShape).strict(), {
        error: 'expected a mapping of host groups, e.g. groups: { office: { blackout: ["Mon-Fri 08:00-18:00"] } }',
      })
      .optional()
      .describe(
        "Host groups by name: each sets anything a host can; a host takes its `group:`'s settings over `defaults` and under its own.",
      ),
    notify: notifyListSchema
      .optional()
      .describe('Monitoring targets told about every run on every server (inventory/notify-schema.ts).'),
    netbox: netboxSchema
      .optional()
      .describe(
        'Hosts from NetBox besides `hosts:`; a host `hosts:` defines takes nothing from NetBox unless `netbox.fillYamlHosts` is true (inventory/sources.ts).',
      ),
    sync: syncSchema.optional().describe('The syncInventory schedule (default every 15m).'),
    hosts: z
      .record(nameSchema, hostSchema, {
        error: 'expected a mapping of hosts, e.g. hosts: { vpn: { address: vpn.example.org } }',
      })
      .describe('The hosts to back up, by name (matched case-insensitively). NetBox may add more.'),
  })
  .strict()
  .transform(applyGroups)
  .superRefine(inventoryChecks)
  .transform((inventory) => ({
    ...inventory,
    hosts: lowerCaseKeys(inventory.hosts),
    ...(inventory.hostOrigins ? { hostOrigins: lowerCaseKeys(inventory.hostOrigins) } : {}),
  }));

/** Host names are case-insensitive (DNS); inventoryChecks refused two spellings of one name already. */
function lowerCaseKeys<T>(record: Record<string, T>): Record<string, T> {
  const keys = Object.keys(record);
  if (keys.every((key) => key === key.toLowerCase())) return record;
  return Object.fromEntries(keys.map((key) => [key.toLowerCase(), record[key]!]));
}

export type Inventory = z.infer<typeof inventorySchema>;
export type HostEntry = Inventory['hosts'][string];
export type GroupSettings = z.infer<z.ZodObject<typeof groupSettingsShape>>;
