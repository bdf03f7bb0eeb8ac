// The inventory file's shape (the public contract): validated with zod, strict about unknown keys.
import { isIP } from 'node:net';
import { z } from 'zod';
import { safeRemotePath } from '../domain/host-steps.js';
import { retentionClasses, type RetentionClass } from '../domain/retention.js';
import { excludesEverything } from '../domain/rsync-pattern.js';
import { absolutePathSchema, boundedDuration, durations, integerRange, rsyncPathSchema } from './field-rules.js';
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
    /** rsync --timeout: give up when no data moves for this long. Default "10m". */
    ioTimeout: timerDuration('rsync counts --timeout in whole seconds and 0 turns stall detection off').optional(),
    /** How soon a silent transfer (dead worker) is noticed and retried. Default "60s". */
    heartbeatTimeout: timerDuration('a dead worker must still be noticed; 0 turns the check off').optional(),
    /** Attempts for a transfer failing on network/ssh errors, the first included. Default 5. */
    attempts: z
      .int()
      .min(1, { error: 'expected an integer 1-100' })
      .max(100, { error: 'expected an integer 1-100' })
      .optional(),
    /** Wait before the first retry; doubles each time up to 10m. Default "30s". */
    retryInterval: boundedDuration({
      example: durationExamples,
      min: durations.second,
      minWhy: 'retries faster than once a second hammer a host that is down',
      max: 10 * durations.minute,
      maxWhy: 'the retry policy doubles the wait up to 10m, and Temporal refuses a first wait above that',
    }).optional(),
    /** rsync --bwlimit, e.g. "10M" (bytes per second, K/M/G suffix). Default: unlimited. */
    bandwidthLimit: z
      .string({ error: 'expected a rate such as "500K" or "10M"' })
      .regex(/^[1-9]\d*[KMG]?$/, { error: 'expected a rate such as "500K" or "10M"' })
      .optional(),
  })
  .strict();

const retentionCountSchema = z
  .int({ error: 'expected a whole number of periods, 0 or more' })
  .min(0, { error: 'expected a whole number of periods, 0 or more' })
  .optional();

/** Which snapshots to keep. Fields merge over `defaults.retention`; a class left out or 0 keeps
 * none of that class, but when no class is set anywhere the counts are daily 7, weekly 4, monthly 12,
 * yearly 3. timeZone defaults to the backup server's zone, weekStartsOn to 1 (Monday). */
const retentionSchema = z
  .object(
    {
      ...(Object.fromEntries(retentionClasses.map((cls) => [cls, retentionCountSchema])) as Record<
        RetentionClass,
        typeof retentionCountSchema
      >),
      /** Every complete snapshot younger than this is kept, e.g. "36h". */
      keepWithin: boundedDuration({
        example: durationExamples,
        min: 0,
        minWhy: '',
        max: 36_500 * durations.day,
        maxWhy: 'a century',
      }).optional(),
      timeZone: z
        .string({ error: 'expected an IANA time zone such as "Europe/Amsterdam"' })
        .refine(isTimeZone, { error: 'expected an IANA time zone such as "Europe/Amsterdam"' })
        .optional(),
      weekStartsOn: integerRange(0, 6, 'expected 0 (Sunday) to 6 (Saturday)').optional(),
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
    maxDeletePercent: percentSchema.optional(),
    maxDeleteMin: integerRange(0, 10_000_000, 'expected a whole number of files, 0-10000000').optional(),
    shrinkPercent: percentSchema.optional(),
    maxAnomalySnapshots: z
      .int({ error: 'expected an integer 1-1000' })
      .min(1, { error: 'expected an integer 1-1000 (partial and suspect snapshots kept)' })
      .max(1000, { error: 'expected an integer 1-1000' })
      .optional(),
    partialRunsBeforeFailed: integerRange(1, 1000).optional(),
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
    /** Default /etc/backup-scripts/; a missing directory means no hooks. */
    dir: remotePathSchema.optional(),
    /** Default "30m". */
    timeout: timerDuration('timeout(1) on the host counts in seconds, and 0 means no timeout').optional(),
    /** Default "continue": the run is FAILED but still copied and snapshotted; "abort" skips both. */
    onFailure: z.enum(['continue', 'abort'], { error: 'expected "continue" or "abort"' }).optional(),
  })
  .strict();

/** PlanB's host-side veto: files in `dir` postpone the run. */
const vetoSchema = z
  .object({
    /** Default /var/lib/backup/do-not-run.d/. */
    dir: remotePathSchema.optional(),
    /** Default "1h". */
    retryInterval: timerDuration('each check is an ssh login to the host').optional(),
    /** Checks after the first; default 24. */
    retries: integerRange(0, 1000).optional(),
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

/** Settings a host may have, each also settable once under `defaults`. */
const hostSettingsShape = {
  port: integerRange(1, 65535).optional(),
  user: z
    .string()
    .regex(/^[a-z_][a-z0-9_.-]{0,31}$/i, {
      error: 'expected a user name such as "root" or "backup" (letters, digits, _ . -, at most 32)',
    })
    .optional(),
  sudo: z.boolean({ error: 'expected true or false' }).optional(),
  /** Copied by rsync: the safe path alphabet, plus single spaces inside names (field-rules.ts). */
  paths: z.array(rsyncPathSchema).min(1, { error: 'list at least one path, e.g. ["/"]' }).optional(),
  excludes: z.array(excludeSchema).optional(),
  servers: z
    .array(nameSchema)
    .min(1, { error: 'list at least one server, or leave "servers" out for every server' })
    .optional(),
  transfer: transferSchema.optional(),
  hooks: hooksSchema.optional(),
  veto: vetoSchema.optional(),
  /** Without `paths`: every local filesystem mounted at or under this directory (default "/"). */
  selectionRoot: absolutePathSchema.optional(),
  includeNetworkMounts: z.boolean({ error: 'expected true or false' }).optional(),
  /** Filesystem types copied besides the built-in local ones, e.g. ["fuse.mergerfs"]. */
  includeFilesystemTypes: z
    .array(z.string().regex(/^[a-z0-9_.+-]+$/i, { error: 'expected a filesystem type such as "fuse.mergerfs"' }))
    .optional(),
  /** PlanB-style allow-list relative to the selection root, e.g. ["etc", "home", "var/backups"]. */
  include: z
    .array(includeItemSchema)
    .min(1, { error: 'list at least one path, or leave "include" out to copy everything' })
    .optional(),
  /** The host's own exclude file, read at backup time. Default /etc/backup-exclude.conf. */
  excludeFile: remotePathSchema.optional(),
  /** The built-in excludes for full-system backups (default true). */
  standardExcludes: z.boolean({ error: 'expected true or false' }).optional(),
  retention: retentionSchema.optional(),
  /** ZFS quota of the host's dataset (copy and snapshots), e.g. "500G": one host cannot fill the pool. */
  quota: z
    .string({ error: 'expected a size such as "500G"' })
    .regex(/^\d+[KMGT]?$/, { error: 'expected a size such as "500G" (K/M/G/T)' })
    .optional(),
  /** Shrink guard, anomaly cap, partial escalation (domain/guards.ts). */
  guards: guardsSchema.optional(),
  /** schedule, jitter, timezone, blackout, enabled (inventory/schedule-schema.ts). */
  ...scheduleSettingsShape,
};

const hostSchema = z
  .object({
    /** The ssh target: a DNS name or an IP address. */
    address: z
      .string({ error: 'expected the ssh target, a host name or IP address' })
      .refine((text) => isIP(text) !== 0 || (text.length <= 253 && nameSchema.safeParse(text).success), {
        error: 'expected the ssh target, a host name or IP address',
      }),
    ...hostSettingsShape,
  })
  .strict();

const serverSchema = z
  .object({
    dataset: datasetSchema,
    /** This server's address as the backed-up hosts see its ssh connections: an IP address or a CIDR
     * range. `tidemark host-setup` puts it in the key's from="..." (sshd matches host names there only
     * with UseDNS, so none are taken). Optional: without it the key is not tied to an address. */
    address: z
      .string({ error: 'expected an IP address or CIDR range such as "192.0.2.10" or "2001:db8::/64"' })
      .refine((text) => isSourceAddress(text), {
        error:
          'expected an IP address or CIDR range such as "192.0.2.10" or "2001:db8::/64" (no host names: sshd matches from="..." by address)',
      })
      .optional(),
    /** Transfers this server runs at once. Default 2. */
    concurrency: z
      .int()
      .min(1, { error: 'expected an integer 1-64' })
      .max(64, { error: 'expected an integer 1-64' })
      .optional(),
    /** notify (targets of this server only), metrics, stateFile: inventory/notify-schema.ts. */
    ...serverMonitoringShape,
    /** Free space every run must leave in the pool after its expected write. Default "5%". */
    reserve: reserveSchema.optional(),
    /** Scripts on this backup server, run before the host's hooks and at the end of each run. */
    hooks: z
      .object({
        before: absolutePathSchema.optional(),
        after: absolutePathSchema.optional(),
        timeout: timerDuration('a server hook needs time to run; 0 would kill it at once').optional(),
      })
      .strict()
      .optional(),
    /** Where restores run by this server may write (docs/explanation/security-model.md). */
    restore: z
      .object({
        /** Local `--to` directories must lie under one of these. Default [/var/lib/tidemark/restore]. */
        roots: z.array(absolutePathSchema).min(1, { error: 'expected at least one directory' }).optional(),
        /** Allow `--to /` and `--target-dir /` (writing over a live system). Default false. */
        overwriteLiveSystem: z.boolean({ error: 'expected true or false' }).optional(),
      })
      .strict()
      .optional(),
    /** Rotate snapshots of the systems Tidemark replaces as complete copies (off: left alone as foreign). */
    adopt: z
      .object(
        {
          sown: z.boolean({ error: 'expected true or false' }).optional(),
          planb: z.boolean({ error: 'expected true or false' }).optional(),
        },
        { error: 'expected a mapping such as { sown: true, planb: true }' },
      )
      .strict()
      .optional(),
  })
  .strict();

export const inventorySchema = z
  .object({
    temporal: z
      .object({
        address: z
          .string()
          .regex(/^[^\s:]+:\d{1,5}$/, { error: 'expected host:port, e.g. "127.0.0.1:7233"' })
          .optional(),
        namespace: z
          .string()
          .regex(/^[A-Za-z0-9._-]{1,255}$/, {
            error: 'expected a Temporal namespace such as "default" (letters, digits, . _ -)',
          })
          .optional(),
        /** Base URL of the Temporal Web UI, for links. Default http://<address host>:8233. */
        uiUrl: z.url().optional(),
        /** A profile of temporal.toml (the Temporal CLI's client config file) to start from. */
        profile: z
          .string()
          .regex(/^[A-Za-z0-9._-]{1,100}$/, {
            error: 'expected a profile name of temporal.toml such as "default" or "prod"',
          })
          .optional(),
        /** temporal.toml itself. Default $TEMPORAL_CONFIG_FILE, else ~/.config/temporalio/temporal.toml. */
        configFile: absolutePathSchema.optional(),
        /** Temporal Cloud API key, as a file (secrets never sit in the inventory). Turns TLS on. */
        apiKeyFile: absolutePathSchema.optional(),
        /** true: TLS with the system's trusted CAs; a mapping: TLS with these settings; false (or disabled:
         * true): plain, whatever the profile says. The booleans become mappings, so one shape follows. */
        tls: z
          .preprocess(
            (value) => (value === true ? {} : value === false ? { disabled: true } : value),
            z
              .object(
                {
                  disabled: z.boolean({ error: 'expected true or false' }).optional(),
                  /** The name the server certificate must carry, when it differs from the address's host. */
                  serverName: z
                    .string()
                    .regex(/^[A-Za-z0-9.-]{1,253}$/, { error: 'expected a DNS name such as "temporal.example.org"' })
                    .optional(),
                  /** PEM CA bundle the server's certificate must chain to. Default: the system's trusted CAs. */
                  serverCaCertFile: absolutePathSchema.optional(),
                  /** PEM client certificate and its key, for servers that require mutual TLS. */
                  clientCertFile: absolutePathSchema.optional(),
                  clientKeyFile: absolutePathSchema.optional(),
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
          .optional(),
      })
      .strict()
      .optional(),
    ssh: z
      .object({
        identityFile: sshFileSchema.optional(),
        knownHostsFile: sshFileSchema.optional(),
        /** One ssh login per run shared by probe, hooks and rsync (OpenSSH ControlMaster). Default true. */
        multiplex: z.boolean().optional(),
        /** Folder for the runs' control sockets (made 0700; a symlink, a file or a folder others can enter
         * there means no multiplexing). Default /run/tidemark/ssh for root, else $XDG_RUNTIME_DIR/tidemark-ssh
         * or <tmpdir>/tidemark-ssh-<uid>. */
        controlDir: sshFileSchema.optional(),
      })
      .strict()
      .optional(),
    servers: z
      .record(nameSchema, serverSchema, {
        error: 'expected a mapping of backup servers, e.g. servers: { backup-1: { dataset: data } }',
      })
      .refine((servers) => Object.keys(servers).length > 0, {
        error: 'define at least one backup server, e.g. servers: { backup-1: { dataset: data } }',
      }),
    defaults: z.object(hostSettingsShape).strict().optional(),
    /** Monitoring targets told about every run on every server (inventory/notify-schema.ts). */
    notify: notifyListSchema.optional(),
    /** Hosts from NetBox besides `hosts:`; a host `hosts:` defines takes nothing from NetBox unless
     * `netbox.fillYamlHosts` is true (inventory/sources.ts). */
    netbox: netboxSchema.optional(),
    /** The syncInventory schedule (default every 15m). */
    sync: syncSchema.optional(),
    hosts: z.record(nameSchema, hostSchema, {
      error: 'expected a mapping of hosts, e.g. hosts: { vpn: { address: vpn.example.org } }',
    }),
  })
  .strict()
  .superRefine(inventoryChecks)
  .transform((inventory) => ({ ...inventory, hosts: lowerCaseKeys(inventory.hosts) }));

/** Host names are case-insensitive (DNS); inventoryChecks refused two spellings of one name already. */
function lowerCaseKeys<T>(record: Record<string, T>): Record<string, T> {
  const keys = Object.keys(record);
  if (keys.every((key) => key === key.toLowerCase())) return record;
  return Object.fromEntries(keys.map((key) => [key.toLowerCase(), record[key]!]));
}

export type Inventory = z.infer<typeof inventorySchema>;
export type HostEntry = Inventory['hosts'][string];
