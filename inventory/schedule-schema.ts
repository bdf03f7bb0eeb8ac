// The inventory's cadence and source settings: per-host schedule fields (also under
// `defaults:`), the `netbox:` source block and the `sync:` block. inventory/schema.ts includes them.
import { z } from 'zod';
import { parseDuration } from '../domain/duration.js';
import { longestBlackoutGap, parseBlackout } from '../domain/schedule-spec.js';
import { cronProblem } from './cron.js';
import { absolutePathSchema, boundedDuration, durations } from './field-rules.js';

/** Temporal schedule intervals: whole minutes (Tidemark plans by the minute), at most a year. */
const intervalText = (example: string, minWhy: string) =>
  boundedDuration({
    example: `"${example}"`,
    min: durations.minute,
    minWhy,
    max: 366 * durations.day,
    maxWhy: 'a year',
  }).refine(
    (text) => {
      const ms = parseDuration(text);
      return ms === undefined || ms < durations.minute || ms % durations.minute === 0;
    },
    {
      error: 'expected whole minutes, e.g. "6h"',
    },
  );

/** True when this runtime knows the IANA zone (Temporal's server must know it too). */
export function isTimeZone(zone: string): boolean {
  let known = knownZones.get(zone);
  if (known === undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: zone });
      known = zone.length > 0;
    } catch {
      known = false;
    }
    if (knownZones.size > 1000) knownZones.clear();
    knownZones.set(zone, known);
  }
  return known;
}
// Cached: building a formatter costs about 0.1 ms and a fleet names the same few zones on every host.
const knownZones = new Map<string, boolean>();

const scheduleError = 'expected daily, hourly, { every: "6h" } or { cron: "30 2 * * *" }';

/** `daily` (default) | `hourly` | `{ every: "6h" }` | `{ cron: "30 2 * * *" }`. */
export const scheduleChoiceSchema = z.union(
  [
    z.enum(['daily', 'hourly']),
    z
      .object({
        every: intervalText('6h', 'schedules start at most once a minute').describe(
          'Interval between starts, e.g. "6h".',
        ),
      })
      .strict(),
    z
      .object({
        cron: z.string().superRefine((text, ctx) => {
          const problem = cronProblem(text);
          if (problem) ctx.addIssue({ code: 'custom', message: problem });
        }),
      })
      .strict(),
  ],
  { error: scheduleError },
);

/** A shorter gap between blackout windows is taken for "all day" written with an inclusive end
 * ("00:00-23:59"): it leaves no room for a run's start and jitter. */
const minimumBlackoutGapMinutes = 10;

/** Host settings (and `defaults:`) for when backups run. */
export const scheduleSettingsShape = {
  schedule: scheduleChoiceSchema
    .optional()
    .describe("Default daily, at a time picked from the host's name (servers of one host spread apart)."),
  jitter: boundedDuration({ example: '"30m"', min: 0, minWhy: '' })
    .optional()
    .describe(
      'Random delay added to each start, "0s" for none; below the interval. Default: a tenth of the interval, at most 30m; none for cron.',
    ),
  timezone: z
    .string({ error: 'expected an IANA time zone such as "Europe/Amsterdam"' })
    .refine(isTimeZone, { error: 'expected an IANA time zone such as "Europe/Amsterdam"' })
    .optional()
    .describe(
      "IANA zone of the schedule's calendar times, blackout windows and retention's days, weeks, months and years (one zone for both). Default UTC.",
    ),
  blackout: z
    .array(
      z
        .string({ error: 'expected a window such as "09:00-17:00"' })
        .refine((text) => parseBlackout(text) !== undefined, {
          error: 'expected a window such as "09:00-17:00" or "22:00-06:00"',
        }),
    )
    .refine(
      (texts) =>
        longestBlackoutGap(texts.map(parseBlackout).filter((window) => window !== undefined)) >=
        minimumBlackoutGapMinutes,
      {
        error: `the blackout windows together cover (nearly) the whole day, so no backup could start; leave a gap of at least ${minimumBlackoutGapMinutes} minutes ("00:00-23:59" is a whole day)`,
      },
    )
    .optional()
    .describe(
      'Windows in which no run starts or runs its jitter, e.g. ["09:00-17:00"] (PlanB\'s default); a retry of the probe, hooks or transfer that would start inside one waits until it ends. Default none.',
    ),
  enabled: z
    .boolean({ error: 'expected true or false' })
    .optional()
    .describe('false: the schedule is kept but paused; snapshots stay. Default true.'),
};

/** NetBox as a host source: devices and virtual machines carrying `tag`. */
/** How the ssh target of a NetBox object is chosen (netbox.address). */
export const netboxAddressChoices = ['primary_ip', 'primary_ip4', 'primary_ip6', 'name'] as const;

export const netboxSchema = z
  .object(
    {
      url: z
        .url({ error: 'expected the NetBox base URL, e.g. "https://netbox.example.org"' })
        .describe('NetBox base URL.'),
      tokenFile: absolutePathSchema
        .optional()
        .describe('File holding the API token (read at each sync, never passed through Temporal).'),
      tokenEnv: z
        .string()
        .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'expected an environment variable name' })
        .optional()
        .describe('Environment variable holding the API token.'),
      tag: z.string().min(1).max(100).optional().describe('Tag name or slug selecting hosts. Default "Backup".'),
      address: z
        .enum(netboxAddressChoices, { error: `expected one of ${netboxAddressChoices.join(', ')}` })
        .optional()
        .describe(
          'ssh target: the primary IP (prefix length stripped; NetBox gives the IPv6 one of a dual-stack object unless its PREFER_IPV4 is set), primary_ip4 or primary_ip6 (that family first, then the other), or the NetBox name. Default primary_ip.',
        ),
      timeout: boundedDuration({
        example: '"20s"',
        min: durations.second,
        minWhy: 'NetBox needs time to answer',
      })
        .optional()
        .describe('Per request. Default "20s".'),
      maxCacheAge: boundedDuration({
        example: '"3d"',
        min: 0,
        minWhy: '0 turns the kept answer off',
        max: 366 * durations.day,
        maxWhy: 'a year-old NetBox answer describes another fleet',
      })
        .optional()
        .describe(
          'While NetBox is unreachable or answers an error, the last good answer kept on this machine (netbox.cacheFile) stands in for it, with a WARNING naming its age, up to this age; after it NetBox-only hosts fail until NetBox answers. "0s": never. Default "3d".',
        ),
      cacheFile: absolutePathSchema
        .optional()
        .describe(
          "Where the last good NetBox answer is kept (mode 0600, no token). Default netbox-answer.json beside the state file of the worker's server (the CLI: of the inventory's first server).",
        ),
      fillYamlHosts: z
        .boolean({ error: 'expected true or false' })
        .optional()
        .describe(
          "true: NetBox's custom fields fill what a `hosts:` entry of the same name leaves unset. Default false: a host the YAML file defines takes nothing from NetBox (the file is trusted more).",
        ),
    },
    {
      error: 'expected a mapping such as { url: "https://netbox.example.org", tokenFile: /etc/tidemark/netbox-token }',
    },
  )
  .strict()
  .refine((netbox) => netbox.tokenFile !== undefined || netbox.tokenEnv !== undefined, {
    error: 'set tokenFile or tokenEnv (the API token is read at run time)',
  });

/** The `syncInventory` schedule that applies inventory (and NetBox) changes on its own. */
export const syncSchema = z
  .object(
    {
      every: intervalText('15m', 'each sync reads the inventory and NetBox and lists every schedule')
        .optional()
        .describe('Default "15m".'),
      enabled: z
        .boolean({ error: 'expected true or false' })
        .optional()
        .describe('false: no sync schedule; only `tidemark sync` applies changes. Default true.'),
    },
    { error: 'expected a mapping such as { every: 15m }' },
  )
  .strict();
