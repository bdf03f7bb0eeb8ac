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

const attempts = integerRange(1, 20)
  .optional()
  .describe('Tries of the notify activity, 1-20; permanent refusals are not retried. Default 5.');

/** Icinga 2 passive check result through its REST API (SOWN's contract: service BACKUP-<server>). */
export const icingaTargetSchema = z
  .object({
    type: z.literal('icinga').describe("Icinga 2: a passive check result for the host's BACKUP-<server> service."),
    url: httpUrl.describe('API base, e.g. https://icinga.example.org:5665'),
    user: z
      .string({ error: 'expected the ApiUser name' })
      .min(1, { error: 'expected the ApiUser name' })
      .describe('ApiUser with actions/process-check-result.'),
    passwordFile: absolutePath.describe("File holding the ApiUser's password (first line)."),
    caFile: absolutePath
      .optional()
      .describe("CA certificate of the API (e.g. /var/lib/icinga2/certs/ca.crt); default: the system's CAs."),
    tlsServerName: z
      .string()
      .min(1)
      .optional()
      .describe("Name the API's certificate is checked against, when `url` uses an address (default: the URL's host)."),
    host: template.optional().describe('Icinga host object; default "{host}".'),
    service: template.optional().describe('Icinga service object; default "BACKUP-{server}".'),
    drillService: template
      .optional()
      .describe('Icinga service object for restore drills (verify.every); default "RESTORE-DRILL-{server}".'),
    attempts,
  })
  .strict();

/** JSON POST of the summary; signed with HMAC-SHA256 when a secret file is given. */
export const webhookTargetSchema = z
  .object({
    type: z.literal('webhook').describe('An HTTP POST of the run summary, signed when secretFile is set.'),
    url: httpUrl.describe('{host} and {server} are replaced.'),
    secretFile: absolutePath.optional().describe('File holding the HMAC key (whole file, trailing newline removed).'),
    attempts,
  })
  .strict();

/** healthchecks.io-style pings: <url>/start, <url>, <url>/fail. Use a per-host URL, e.g. ".../{host}-{server}". */
export const healthchecksTargetSchema = z
  .object({
    type: z.literal('healthchecks').describe('healthchecks.io pings: /start, success, /fail.'),
    url: httpUrl.describe('Check URL; {host} and {server} are replaced.'),
    attempts,
  })
  .strict();

/** Zabbix trapper items through the sender protocol. */
export const zabbixTargetSchema = z
  .object({
    type: z.literal('zabbix').describe('Zabbix trapper items over the sender protocol.'),
    server: z
      .string({ error: 'expected the Zabbix server address' })
      .regex(/^[^\s:/]+$/, { error: 'expected a host name or address without port (port is separate)' })
      .describe('Zabbix server or proxy address.'),
    port: integerRange(1, 65535).optional().describe('Default 10051.'),
    host: template.optional().describe('Zabbix host the items belong to; default "{host}".'),
    apiUrl: httpUrl
      .optional()
      .describe(
        'Zabbix API (…/api_jsonrpc.php): with apiTokenFile, items are read back so a value Zabbix stored as unsupported (wrong type) fails the target.',
      ),
    apiTokenFile: absolutePath
      .optional()
      .describe('File holding a Zabbix API token (first line) that may read the items.'),
    attempts,
  })
  .strict()
  .superRefine((target, ctx) => {
    if ((target.apiUrl === undefined) !== (target.apiTokenFile === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [target.apiUrl === undefined ? 'apiUrl' : 'apiTokenFile'],
        message: 'set both apiUrl and apiTokenFile (the API read-back needs both), or neither',
      });
    }
  });

/** Mail on failure and on recovery (PlanB). By default through the backup server's own MTA in plain SMTP
 * (it relays onwards); a smarthost can be used directly with STARTTLS and AUTH. */
export const mailTargetSchema = z
  .object({
    type: z.literal('mail').describe("A mail for every FAILED run and a recovery mail after one (PlanB's rule)."),
    smtp: hostPort.optional().describe('SMTP server, host:port. Default "127.0.0.1:25" (the local MTA).'),
    from: z.email({ error: 'expected a mail address' }).describe('Sender address.'),
    to: z
      .array(z.email({ error: 'expected a mail address' }), { error: 'expected a list of mail addresses' })
      .min(1, { error: 'list at least one address' })
      .describe('Recipient addresses (at least one).'),
    starttls: z
      .enum(['off', 'opportunistic', 'required'], { error: 'expected off, opportunistic or required' })
      .optional()
      .describe(
        'STARTTLS: "off" (plain SMTP, for a local MTA), "opportunistic" (used when the server offers it) or "required" (no mail without it). Default "off".',
      ),
    caFile: absolutePath
      .optional()
      .describe("CA certificate (PEM) the server's certificate is checked against; default: the system's CAs."),
    tlsServerName: z
      .string({ error: 'expected a host name' })
      .min(1, { error: 'expected a host name' })
      .optional()
      .describe(
        "Name the server's certificate is checked against, when `smtp` uses an address (default: the host of `smtp`).",
      ),
    user: z
      .string({ error: 'expected the SMTP user name' })
      .min(1, { error: 'expected the SMTP user name' })
      .optional()
      .describe('AUTH user name; needs `passwordFile` and `starttls: required`. Default: no AUTH.'),
    passwordFile: absolutePath.optional().describe('File holding the AUTH password (first line), read at send time.'),
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
  metrics: hostPort
    .optional()
    .describe(
      'Prometheus endpoint of this server\'s worker, e.g. "127.0.0.1:9464"; default off (or `worker --metrics`).',
    ),
  // The worker replaces this file (and moves a damaged one aside): a ".json" name outside the system's own
  // directories, so a typo or a hostile edit cannot make it replace the inventory or another system file.
  stateFile: absolutePath
    .refine((path) => path.endsWith('.json'), {
      error: 'expected a file ending in ".json", e.g. /var/lib/tidemark/state.json',
    })
    .refine((path) => !systemDirectories.some((dir) => path.startsWith(`${dir}/`)), {
      error: `expected a file outside ${'/etc, /usr, /bin, /sbin, /lib, /boot, /dev, /proc, /sys, /root'}, e.g. /var/lib/tidemark/state.json`,
    })
    .optional()
    .describe(
      'Last status per host, for recovery mail and metrics. Default /var/lib/tidemark/state.json; a ".json" file outside /etc, /usr, /bin, /sbin, /lib, /boot, /dev, /proc, /sys and /root.',
    ),
};
