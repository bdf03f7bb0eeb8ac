// The inventory's cadence and source settings (issue 6): per-host schedule fields (also under
// `defaults:`), the `netbox:` source block and the `sync:` block. inventory/schema.ts includes them.
import { z } from 'zod';
import { parseDuration } from '../domain/duration.js';
import { cronProblem, parseBlackout } from '../domain/schedule-spec.js';

const durationText = (example: string) =>
  z.string({ error: `expected a duration such as "${example}"` }).refine((text) => parseDuration(text) !== undefined, {
    error: `expected a duration such as "${example}"`,
  });

/** True when this runtime knows the IANA zone (Temporal's server must know it too). */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return zone.length > 0;
  } catch {
    return false;
  }
}

const scheduleError = 'expected daily, hourly, { every: "6h" } or { cron: "30 2 * * *" }';

/** `daily` (default) | `hourly` | `{ every: "6h" }` | `{ cron: "30 2 * * *" }`. */
export const scheduleChoiceSchema = z.union(
  [
    z.enum(['daily', 'hourly']),
    z
      .object({
        every: durationText('6h').refine((text) => {
          const ms = parseDuration(text) ?? 0;
          return ms >= 60_000 && ms % 60_000 === 0;
        }, { error: 'expected whole minutes, at least "1m", e.g. "6h"' }),
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

/** Host settings (and `defaults:`) for when backups run. */
export const scheduleSettingsShape = {
  /** Default daily, at a time picked from the host's name (servers of one host spread apart). */
  schedule: scheduleChoiceSchema.optional(),
  /** Random delay added to each start. Default: a tenth of the interval, at most 30m; none for cron. */
  jitter: durationText('30m').optional(),
  /** IANA zone for calendar times and blackout windows. Default UTC. */
  timezone: z
    .string({ error: 'expected an IANA time zone such as "Europe/Amsterdam"' })
    .refine(isTimeZone, { error: 'expected an IANA time zone such as "Europe/Amsterdam"' })
    .optional(),
  /** Windows in which no run starts or runs its jitter, e.g. ["09:00-17:00"] (PlanB's default). Default none. */
  blackout: z
    .array(
      z.string({ error: 'expected a window such as "09:00-17:00"' }).refine((text) => parseBlackout(text) !== undefined, {
        error: 'expected a window such as "09:00-17:00" or "22:00-06:00"',
      }),
    )
    .optional(),
  /** false: the schedule is kept but paused; snapshots stay. Default true. */
  enabled: z.boolean({ error: 'expected true or false' }).optional(),
};

/** NetBox as a host source: devices and virtual machines carrying `tag`. */
export const netboxSchema = z
  .object(
    {
      url: z.url({ error: 'expected the NetBox base URL, e.g. "https://netbox.example.org"' }),
      /** File holding the API token (read at each sync, never passed through Temporal). */
      tokenFile: z.string().regex(/^\//, { error: 'expected an absolute path' }).optional(),
      /** Environment variable holding the API token. */
      tokenEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'expected an environment variable name' }).optional(),
      /** Tag name or slug selecting hosts. Default "Backup". */
      tag: z.string().min(1).optional(),
      /** ssh target: the primary IP (prefix length stripped) or the NetBox name. Default primary_ip. */
      address: z.enum(['primary_ip', 'name'], { error: 'expected primary_ip or name' }).optional(),
      /** Per request. Default "20s". */
      timeout: durationText('20s').optional(),
    },
    { error: 'expected a mapping such as { url: "https://netbox.example.org", tokenFile: /etc/tidemark/netbox-token }' },
  )
  .strict()
  .refine((netbox) => netbox.tokenFile !== undefined || netbox.tokenEnv !== undefined, {
    error: 'set tokenFile or tokenEnv (the API token is read at run time)',
  });

/** The `syncInventory` schedule that applies inventory (and NetBox) changes on its own. */
export const syncSchema = z
  .object(
    {
      /** Default "15m". */
      every: durationText('15m').optional(),
      /** false: no sync schedule; only `tidemark sync` applies changes. Default true. */
      enabled: z.boolean({ error: 'expected true or false' }).optional(),
    },
    { error: 'expected a mapping such as { every: 15m }' },
  )
  .strict();
