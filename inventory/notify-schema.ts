// The `notify:` list of the inventory (top level and per server): monitoring targets told about every run.
// Secrets are never written here: passwords and webhook secrets are read from files at send time.
import { z } from 'zod';
import { integerRange } from './field-rules.js';

const absolutePath = z
  .string({ error: 'expected an absolute path starting with "/"' })
  .regex(/^\/[^\n\0]*$/, { error: 'expected an absolute path starting with "/"' });

const httpUrl = z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' });

/** Names with {host} and {server} placeholders, e.g. "BACKUP-{server}". */
const template = z
  .string({ error: 'expected a name; {host} and {server} are replaced' })
  .min(1, { error: 'expected a name; {host} and {server} are replaced' })
  .regex(/^[^\n\0]+$/, { error: 'a name may not contain a newline' });

const hostPort = z
  .string({ error: 'expected host:port, e.g. "127.0.0.1:25"' })
  .regex(/^[^\s:]+:\d{1,5}$/, { error: 'expected host:port, e.g. "127.0.0.1:25"' });

const attempts = integerRange(1, 20).optional();

/** Icinga 2 passive check result through its REST API (SOWN's contract: service BACKUP-<server>). */
export const icingaTargetSchema = z
  .object({
    type: z.literal('icinga'),
    /** API base, e.g. https://icinga.example.org:5665 */
    url: httpUrl,
    user: z.string({ error: 'expected the ApiUser name' }).min(1, { error: 'expected the ApiUser name' }),
    /** File holding the ApiUser's password (first line). */
    passwordFile: absolutePath,
    /** CA certificate of the API (e.g. /var/lib/icinga2/certs/ca.crt); default: the system's CAs. */
    caFile: absolutePath.optional(),
    /** Name the API's certificate is checked against, when `url` uses an address (default: the URL's host). */
    tlsServerName: z.string().min(1).optional(),
    /** Icinga host object; default "{host}". */
    host: template.optional(),
    /** Icinga service object; default "BACKUP-{server}". */
    service: template.optional(),
    attempts,
  })
  .strict();

/** JSON POST of the summary; signed with HMAC-SHA256 when a secret file is given. */
export const webhookTargetSchema = z
  .object({
    type: z.literal('webhook'),
    /** {host} and {server} are replaced. */
    url: httpUrl,
    /** File holding the HMAC key (whole file, trailing newline removed). */
    secretFile: absolutePath.optional(),
    attempts,
  })
  .strict();

/** healthchecks.io-style pings: <url>/start, <url>, <url>/fail. Use a per-host URL, e.g. ".../{host}-{server}". */
export const healthchecksTargetSchema = z
  .object({
    type: z.literal('healthchecks'),
    url: httpUrl,
    attempts,
  })
  .strict();

/** Zabbix trapper items through the sender protocol. */
export const zabbixTargetSchema = z
  .object({
    type: z.literal('zabbix'),
    /** Zabbix server or proxy address. */
    server: z
      .string({ error: 'expected the Zabbix server address' })
      .regex(/^[^\s:/]+$/, { error: 'expected a host name or address without port (port is separate)' }),
    /** Default 10051. */
    port: integerRange(1, 65535).optional(),
    /** Zabbix host the items belong to; default "{host}". */
    host: template.optional(),
    attempts,
  })
  .strict();

/** Mail on failure and on recovery (PlanB). By default through the backup server's own MTA in plain SMTP
 * (it relays onwards); a smarthost can be used directly with STARTTLS and AUTH. */
export const mailTargetSchema = z
  .object({
    type: z.literal('mail'),
    /** SMTP server, host:port. Default "127.0.0.1:25" (the local MTA). */
    smtp: hostPort.optional(),
    from: z.email({ error: 'expected a mail address' }),
    to: z
      .array(z.email({ error: 'expected a mail address' }), { error: 'expected a list of mail addresses' })
      .min(1, { error: 'list at least one address' }),
    /** STARTTLS: "off" (plain SMTP, for a local MTA), "opportunistic" (used when the server offers it) or
     * "required" (no mail without it). Default "off". */
    starttls: z
      .enum(['off', 'opportunistic', 'required'], { error: 'expected off, opportunistic or required' })
      .optional(),
    /** CA certificate (PEM) the server's certificate is checked against; default: the system's CAs. */
    caFile: absolutePath.optional(),
    /** Name the server's certificate is checked against, when `smtp` uses an address (default: the host of `smtp`). */
    tlsServerName: z.string({ error: 'expected a host name' }).min(1, { error: 'expected a host name' }).optional(),
    /** AUTH user name; needs `passwordFile` and `starttls: required`. Default: no AUTH. */
    user: z
      .string({ error: 'expected the SMTP user name' })
      .min(1, { error: 'expected the SMTP user name' })
      .optional(),
    /** File holding the AUTH password (first line), read at send time. */
    passwordFile: absolutePath.optional(),
    attempts,
  })
  .strict()
  .superRefine((target, ctx) => {
    if (target.user !== undefined && target.passwordFile === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['passwordFile'],
        message: 'user is set: also set passwordFile, the file holding its password',
      });
    }
    if (target.passwordFile !== undefined && target.user === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['user'],
        message: 'passwordFile is set: also set user, the SMTP user name',
      });
    }
    if (target.user !== undefined && target.starttls !== 'required') {
      ctx.addIssue({
        code: 'custom',
        path: ['starttls'],
        message: `got ${target.starttls ?? 'off (the default)'}, but with user set the password must not cross the network in clear: set starttls: required`,
      });
    }
    if ((target.caFile !== undefined || target.tlsServerName !== undefined) && (target.starttls ?? 'off') === 'off') {
      ctx.addIssue({
        code: 'custom',
        path: ['starttls'],
        message: 'caFile and tlsServerName only apply with TLS: set starttls: required (or opportunistic)',
      });
    }
  });

const targetSchemas = [
  icingaTargetSchema,
  webhookTargetSchema,
  healthchecksTargetSchema,
  zabbixTargetSchema,
  mailTargetSchema,
] as const;

export const notifyTargetSchema = z.discriminatedUnion('type', targetSchemas, {
  error: `expected a target with type ${targetSchemas.map((schema) => schema.shape.type.value).join(', ')}`,
});

export const notifyListSchema = z.array(notifyTargetSchema, {
  error: 'expected a list of notify targets, e.g. [{ type: webhook, url: ... }]',
});

export type NotifyTarget = z.infer<typeof notifyTargetSchema>;
export type NotifyTargetType = NotifyTarget['type'];
export type IcingaTarget = z.infer<typeof icingaTargetSchema>;
export type WebhookTarget = z.infer<typeof webhookTargetSchema>;
export type HealthchecksTarget = z.infer<typeof healthchecksTargetSchema>;
export type ZabbixTarget = z.infer<typeof zabbixTargetSchema>;
export type MailTarget = z.infer<typeof mailTargetSchema>;

/** Directories whose files belong to the system, never to the state file. */
const systemDirectories = [
  '/etc',
  '/usr',
  '/bin',
  '/sbin',
  '/lib',
  '/lib64',
  '/boot',
  '/dev',
  '/proc',
  '/sys',
  '/root',
];

/** Per-server monitoring settings (`servers.<name>`): where the worker keeps state and serves metrics. */
export const serverMonitoringShape = {
  notify: notifyListSchema.optional(),
  /** Prometheus endpoint of this server's worker, e.g. "127.0.0.1:9464"; default off (or `worker --metrics`). */
  metrics: hostPort.optional(),
  /** Last status per host, for recovery mail and metrics. Default /var/lib/tidemark/state.json. The worker
   * replaces this file (and moves a damaged one aside): a ".json" name outside the system's own directories,
   * so a typo or a hostile edit cannot make it replace the inventory or another system file. */
  stateFile: absolutePath
    .refine((path) => path.endsWith('.json'), {
      error: 'expected a file ending in ".json", e.g. /var/lib/tidemark/state.json',
    })
    .refine((path) => !systemDirectories.some((dir) => path.startsWith(`${dir}/`)), {
      error: `expected a file outside ${'/etc, /usr, /bin, /sbin, /lib, /boot, /dev, /proc, /sys, /root'}, e.g. /var/lib/tidemark/state.json`,
    })
    .optional(),
};
