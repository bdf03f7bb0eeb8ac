// The inventory file's shape (the public contract): validated with zod, strict about unknown keys.
import { isIP } from 'node:net';
import { z } from 'zod';
import { parseDuration } from '../domain/duration.js';
import { safeRemotePath } from '../domain/host-steps.js';
import { validateRetentionPolicy } from '../domain/retention.js';
import { netboxSchema, scheduleSettingsShape, syncSchema } from './schedule-schema.js';
import { notifyListSchema, serverMonitoringShape } from '../notify/schema.js';

/** Host and server names become dataset components, task queues and workflow ids. */
const nameSchema = z
  .string({ error: 'expected a host name' })
  .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i, {
    error: 'expected a host name (letters, digits, "-" and "."), e.g. "vpn" or "vpn.example.org"',
  })
  .max(253);

/** ZFS dataset names: components of letters, digits and _ . : - with no "..", spaces or empty parts. */
const datasetSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]*(\/[A-Za-z0-9_.:-]+)*$/, {
    error: 'expected a ZFS dataset name such as "data" or "tank/backup" (no spaces, no leading or trailing "/")',
  })
  .refine((name) => !name.split('/').some((part) => part === '.' || part === '..'), {
    error: 'a dataset name may not contain "." or ".." components',
  });

const absolutePathSchema = z
  .string()
  .regex(/^\/[^\n\0]*$/, { error: 'expected an absolute path starting with "/"' })
  .refine((path) => !path.split('/').includes('..'), { error: 'a path may not contain ".." components' });

/** Files handed to ssh inside rsync's --rsh string, which rsync splits on whitespace and quotes. */
const sshFileSchema = absolutePathSchema.refine((path) => !/[\s'"\\]/.test(path), {
  error: 'an ssh file path may not contain spaces, quotes or backslashes',
});

const durationSchema = z.string({ error: 'expected a duration such as "30s", "10m", "1h30m" or "7d"' }).refine((text) => parseDuration(text) !== undefined, {
  error: 'expected a duration such as "30s", "10m", "1h30m" or "7d"',
});

const excludeSchema = z
  .string()
  .min(1, { error: 'an exclude pattern may not be empty' })
  .regex(/^[^\n\0]+$/, { error: 'an exclude pattern may not contain a newline' });

const transferSchema = z
  .object({
    /** rsync --timeout: give up when no data moves for this long. Default "10m". */
    ioTimeout: durationSchema.optional(),
    /** How soon a silent transfer (dead worker) is noticed and retried. Default "60s". */
    heartbeatTimeout: durationSchema.optional(),
    /** Attempts for a transfer failing on network/ssh errors, the first included. Default 5. */
    attempts: z.int().min(1, { error: 'expected an integer 1-100' }).max(100, { error: 'expected an integer 1-100' }).optional(),
    /** Wait before the first retry; doubles each time up to 10m. Default "30s". */
    retryInterval: durationSchema.optional(),
    /** rsync --bwlimit, e.g. "10M" (bytes per second, K/M/G suffix). Default: unlimited. */
    bandwidthLimit: z.string({ error: 'expected a rate such as "500K" or "10M"' }).regex(/^[1-9]\d*[KMG]?$/, { error: 'expected a rate such as "500K" or "10M"' }).optional(),
  })
  .strict();

const retentionCountSchema = z
  .int({ error: 'expected a whole number of periods, 0 or more' })
  .min(0, { error: 'expected a whole number of periods, 0 or more' })
  .optional();

/** Which snapshots to keep (issue 4). Fields merge over `defaults.retention`; a class left out or 0 keeps
 * none of that class, but when no class is set anywhere the counts are daily 7, weekly 4, monthly 12,
 * yearly 3. timeZone defaults to the backup server's zone, weekStartsOn to 1 (Monday). */
const retentionSchema = z
  .object(
    {
      hourly: retentionCountSchema,
      daily: retentionCountSchema,
      weekly: retentionCountSchema,
      monthly: retentionCountSchema,
      yearly: retentionCountSchema,
      /** Every complete snapshot younger than this is kept, e.g. "36h". */
      keepWithin: durationSchema.optional(),
      timeZone: z
        .string({ error: 'expected an IANA time zone such as "Europe/Amsterdam"' })
        .refine((zone) => validateRetentionPolicy({ timeZone: zone }).ok, { error: 'expected an IANA time zone such as "Europe/Amsterdam"' })
        .optional(),
      weekStartsOn: z
        .int({ error: 'expected 0 (Sunday) to 6 (Saturday)' })
        .min(0, { error: 'expected 0 (Sunday) to 6 (Saturday)' })
        .max(6, { error: 'expected 0 (Sunday) to 6 (Saturday)' })
        .optional(),
    },
    { error: 'expected a mapping such as { daily: 7, weekly: 4, monthly: 12, yearly: 3 }' },
  )
  .strict();

const percentSchema = z.number({ error: 'expected a percentage 1-100' }).min(1, { error: 'expected a percentage 1-100' }).max(100, { error: 'expected a percentage 1-100' });

/** Data-safety thresholds (domain/guards.ts holds the defaults and what each does). */
const guardsSchema = z
  .object({
    maxDeletePercent: percentSchema.optional(),
    maxDeleteMin: z.int({ error: 'expected a whole number of files, 0-10000000' }).min(0, { error: 'expected a whole number of files, 0-10000000' }).max(10_000_000, { error: 'expected a whole number of files, 0-10000000' }).optional(),
    shrinkPercent: percentSchema.optional(),
    maxAnomalySnapshots: z.int({ error: 'expected an integer 1-1000' }).min(1, { error: 'expected an integer 1-1000 (partial and suspect snapshots kept)' }).max(1000, { error: 'expected an integer 1-1000' }).optional(),
    partialRunsBeforeFailed: z.int({ error: 'expected an integer 1-1000' }).min(1, { error: 'expected an integer 1-1000' }).max(1000, { error: 'expected an integer 1-1000' }).optional(),
  })
  .strict();

/** Free space a run must leave in the pool: bytes ("50G") or a share of the pool ("5%"). */
const reserveSchema = z.string({ error: 'expected a size such as "50G" or a share such as "5%"' }).regex(/^(\d+(\.\d+)?%|\d+[KMGT]?)$/, {
  error: 'expected a size such as "50G" (K/M/G/T) or a share of the pool such as "5%"',
});

/** Paths written into the fixed commands Tidemark runs on the host (through its shell): a strict alphabet. */
const remotePathSchema = absolutePathSchema.refine((path) => safeRemotePath.test(path), {
  error: 'expected an absolute path of letters, digits and . _ + - only (it is passed to the host\'s shell)',
});

/** Hook scripts on the host, run with run-parts before rsync (SOWN). */
const hooksSchema = z
  .object({
    /** Default /etc/backup-scripts/; a missing directory means no hooks. */
    dir: remotePathSchema.optional(),
    /** Default "30m". */
    timeout: durationSchema.optional(),
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
    retryInterval: durationSchema.optional(),
    /** Checks after the first; default 24. */
    retries: z.int({ error: 'expected an integer 0-1000' }).min(0, { error: 'expected an integer 0-1000' }).max(1000, { error: 'expected an integer 0-1000' }).optional(),
  })
  .strict();

const includeItemSchema = z
  .string()
  .regex(/^[^/\n\0][^\n\0]*$/, { error: 'expected a path relative to the selection root, e.g. "etc" or "var/backups"' })
  .refine((path) => !path.split('/').some((part) => part === '..' || part === '.'), { error: 'an include path may not contain "." or ".." components' });

/** Settings a host may have, each also settable once under `defaults`. */
const hostSettingsShape = {
  port: z.int({ error: 'expected an integer 1-65535' }).min(1, { error: 'expected an integer 1-65535' }).max(65535, { error: 'expected an integer 1-65535' }).optional(),
  user: z.string().regex(/^[a-z_][a-z0-9_.-]*$/i, { error: 'expected a user name such as "root" or "backup"' }).optional(),
  sudo: z.boolean({ error: 'expected true or false' }).optional(),
  paths: z.array(absolutePathSchema).min(1, { error: 'list at least one path, e.g. ["/"]' }).optional(),
  excludes: z.array(excludeSchema).optional(),
  servers: z.array(nameSchema).min(1, { error: 'list at least one server, or leave "servers" out for every server' }).optional(),
  transfer: transferSchema.optional(),
  hooks: hooksSchema.optional(),
  veto: vetoSchema.optional(),
  /** Without `paths`: every local filesystem mounted at or under this directory (default "/"). */
  selectionRoot: absolutePathSchema.optional(),
  includeNetworkMounts: z.boolean({ error: 'expected true or false' }).optional(),
  /** Filesystem types copied besides the built-in local ones, e.g. ["fuse.mergerfs"]. */
  includeFilesystemTypes: z.array(z.string().regex(/^[a-z0-9_.+-]+$/i, { error: 'expected a filesystem type such as "fuse.mergerfs"' })).optional(),
  /** PlanB-style allow-list relative to the selection root, e.g. ["etc", "home", "var/backups"]. */
  include: z.array(includeItemSchema).min(1, { error: 'list at least one path, or leave "include" out to copy everything' }).optional(),
  /** The host's own exclude file, read at backup time. Default /etc/backup-exclude.conf. */
  excludeFile: remotePathSchema.optional(),
  /** The built-in excludes for full-system backups (default true). */
  standardExcludes: z.boolean({ error: 'expected true or false' }).optional(),
  retention: retentionSchema.optional(),
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
      .refine((text) => isIP(text) !== 0 || nameSchema.safeParse(text).success, {
        error: 'expected the ssh target, a host name or IP address',
      }),
    ...hostSettingsShape,
  })
  .strict();

const serverSchema = z
  .object({
    dataset: datasetSchema,
    /** Transfers this server runs at once. Default 2. */
    concurrency: z.int().min(1, { error: 'expected an integer 1-64' }).max(64, { error: 'expected an integer 1-64' }).optional(),
    /** notify (targets of this server only), metrics, stateFile: notify/schema.ts. */
    ...serverMonitoringShape,
    /** Free space every run must leave in the pool after its expected write. Default "5%". */
    reserve: reserveSchema.optional(),
    /** Scripts on this backup server, run before the host's hooks and at the end of each run. */
    hooks: z.object({ before: absolutePathSchema.optional(), after: absolutePathSchema.optional(), timeout: durationSchema.optional() }).strict().optional(),
    /** Rotate snapshots of the systems Tidemark replaces as complete copies (off: left alone as foreign). */
    adopt: z
      .object(
        { sown: z.boolean({ error: 'expected true or false' }).optional(), planb: z.boolean({ error: 'expected true or false' }).optional() },
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
        address: z.string().regex(/^[^\s:]+:\d{1,5}$/, { error: 'expected host:port, e.g. "127.0.0.1:7233"' }).optional(),
        namespace: z.string().min(1).optional(),
        /** Base URL of the Temporal Web UI, for links. Default http://<address host>:8233. */
        uiUrl: z.url().optional(),
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
    servers: z.record(nameSchema, serverSchema, { error: 'expected a mapping of backup servers, e.g. servers: { backup-1: { dataset: data } }' }).refine((servers) => Object.keys(servers).length > 0, {
      error: 'define at least one backup server, e.g. servers: { backup-1: { dataset: data } }',
    }),
    defaults: z.object(hostSettingsShape).strict().optional(),
    /** Monitoring targets told about every run on every server (notify/schema.ts). */
    notify: notifyListSchema.optional(),
    /** Hosts from NetBox besides `hosts:` (a `hosts:` entry of the same name wins field by field). */
    netbox: netboxSchema.optional(),
    /** The syncInventory schedule (default every 15m). */
    sync: syncSchema.optional(),
    hosts: z.record(nameSchema, hostSchema, { error: 'expected a mapping of hosts, e.g. hosts: { vpn: { address: vpn.example.org } }' }),
  })
  .strict()
  .superRefine((inventory, ctx) => {
    const known = Object.keys(inventory.servers);
    const check = (servers: string[] | undefined, path: (string | number)[]) =>
      servers?.forEach((server, index) => {
        if (!known.includes(server))
          ctx.addIssue({
            code: 'custom',
            path: [...path, index],
            input: server,
            message: `unknown server; define it under "servers" (known: ${known.join(', ')})`,
          });
      });
    check(inventory.defaults?.servers, ['defaults', 'servers']);
    for (const [host, settings] of Object.entries(inventory.hosts)) check(settings.servers, ['hosts', host, 'servers']);
  });

export type Inventory = z.infer<typeof inventorySchema>;
export type HostEntry = Inventory['hosts'][string];
