// NetBox as a host source: devices and virtual machines carrying a tag (default "Backup", matched by
// name or slug), read through the REST API page by page. The API token is read here, at run time, from
// a file or an environment variable: it never enters workflow input or history.
import { parseDuration } from '../domain/duration.js';
import type { netboxAddressChoices } from './schedule-schema.js';
import { printable } from './validate.js';
import { readSecretFile, SecretFileModeError } from './secret-file.js';
import { NetboxError } from './netbox-error.js';

export { NetboxError };

export type NetboxAddressChoice = (typeof netboxAddressChoices)[number];

export interface NetboxConfig {
  /** Base URL, e.g. https://netbox.example.org (a path prefix is kept). */
  url: string;
  tokenFile?: string;
  tokenEnv?: string;
  /** Tag name or slug. Default "Backup". */
  tag: string;
  /** ssh target: a primary IP without its prefix length, or the NetBox name. */
  address: NetboxAddressChoice;
  timeoutMs: number;
}

/** The `netbox:` block with its defaults: tag Backup, address primary_ip, timeout 20s. */
export function resolveNetboxConfig(block: {
  url: string;
  tokenFile?: string | undefined;
  tokenEnv?: string | undefined;
  tag?: string | undefined;
  address?: NetboxAddressChoice | undefined;
  timeout?: string | undefined;
}): NetboxConfig {
  return {
    url: block.url,
    ...(block.tokenFile ? { tokenFile: block.tokenFile } : {}),
    ...(block.tokenEnv ? { tokenEnv: block.tokenEnv } : {}),
    tag: block.tag ?? 'Backup',
    address: block.address ?? 'primary_ip',
    timeoutMs: parseDuration(block.timeout ?? '20s') ?? 20_000,
  };
}

/** One selected NetBox object as inventory host settings (not yet validated). */
export interface NetboxHost {
  /** NetBox name, lower-cased (inventory host names are case-insensitive DNS-like names). */
  name: string;
  kind: 'device' | 'virtual-machine';
  id: number;
  /** address plus whatever the backup_* custom fields set. */
  entry: Record<string, unknown>;
}

export interface NetboxAnswer {
  hosts: NetboxHost[];
  /** Objects skipped or guessed at (no name, no primary IP, duplicate names, unreadable custom fields). */
  warnings: string[];
}

/** Reads the token from `tokenFile` (first line) or `tokenEnv`. */
export async function readNetboxToken(config: NetboxConfig, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  if (config.tokenFile) {
    let text: string;
    try {
      text = await readSecretFile(config.tokenFile, 'NetBox token');
    } catch (error) {
      if (error instanceof SecretFileModeError) throw new NetboxError(error.message);
      throw new NetboxError(
        `cannot read the NetBox token file ${config.tokenFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      );
    }
    const token = text.split('\n')[0]?.trim() ?? '';
    if (!token) throw new NetboxError(`the NetBox token file ${config.tokenFile} is empty`);
    return token;
  }
  if (config.tokenEnv) {
    const token = env[config.tokenEnv]?.trim();
    if (!token) throw new NetboxError(`the environment variable ${config.tokenEnv} (netbox.tokenEnv) is not set`);
    return token;
  }
  throw new NetboxError('netbox: set tokenFile or tokenEnv');
}

interface Page {
  next?: string | null;
  results?: unknown[];
}

interface NetboxObject {
  id?: number;
  name?: string | null;
  primary_ip?: { address?: string } | null;
  primary_ip4?: { address?: string } | null;
  primary_ip6?: { address?: string } | null;
  tags?: Array<{ name?: string; slug?: string }>;
  custom_fields?: Record<string, unknown> | null;
}

/** A small client bound to one NetBox and token. */
class NetboxClient {
  private readonly base: URL;
  constructor(
    private readonly config: NetboxConfig,
    private readonly token: string,
  ) {
    this.base = new URL(config.url.endsWith('/') ? config.url : `${config.url}/`);
  }

  /** Every result of a list endpoint, following `next` links (kept on the configured origin). */
  async list(path: string, query: Record<string, string>): Promise<unknown[]> {
    let url: URL | undefined = new URL(path, this.base);
    for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
    const results: unknown[] = [];
    const seen = new Set<string>();
    while (url) {
      if (seen.has(url.href)) throw new NetboxError(`NetBox paging loops at ${this.describe(url)}`);
      seen.add(url.href);
      if (seen.size > 10_000) throw new NetboxError(`NetBox paging did not end after 10000 pages at ${path}`);
      const page = (await this.get(url)) as Page;
      if (!page || typeof page !== 'object' || !Array.isArray(page.results)) {
        throw new NetboxError(
          `NetBox answered ${this.describe(url)} without a "results" list; is ${this.config.url} a NetBox API?`,
        );
      }
      results.push(...page.results);
      url = page.next ? this.sameOrigin(page.next) : undefined;
    }
    return results;
  }

  /** NetBox behind a proxy may write its own scheme/host into `next`: keep the path and query, use ours. */
  private sameOrigin(next: string): URL {
    const parsed = new URL(next, this.base);
    const fixed = new URL(this.base.href);
    fixed.pathname = parsed.pathname;
    fixed.search = parsed.search;
    return fixed;
  }

  private describe(url: URL): string {
    return `${url.pathname}${url.search}`;
  }

  /** One object by its API path; undefined when NetBox answers 404. */
  async one(path: string): Promise<unknown> {
    try {
      return await this.get(new URL(path, this.base));
    } catch (error) {
      if (error instanceof NetboxError && error.status === 404) return undefined;
      throw error;
    }
  }

  private async get(url: URL): Promise<unknown> {
    const scheme = this.token.startsWith('nbt_') ? 'Bearer' : 'Token';
    // The HTTP client loads only when NetBox is asked: most CLI processes never do.
    const { request } = await import('undici');
    let response;
    try {
      response = await request(url, {
        method: 'GET',
        headers: { authorization: `${scheme} ${this.token}`, accept: 'application/json' },
        signal: AbortSignal.timeout(this.config.timeoutMs),
        headersTimeout: this.config.timeoutMs,
        bodyTimeout: this.config.timeoutMs,
      });
    } catch (error) {
      const name = (error as Error).name;
      if (name === 'TimeoutError' || name === 'AbortError' || /timeout/i.test((error as Error).message)) {
        throw new NetboxError(
          `NetBox at ${this.base.origin} did not answer ${this.describe(url)} within ${this.config.timeoutMs / 1000}s; check that NetBox is up and not overloaded, or raise netbox.timeout`,
        );
      }
      const code = (error as NodeJS.ErrnoException).code ?? (error as { cause?: NodeJS.ErrnoException }).cause?.code;
      throw new NetboxError(
        `cannot reach NetBox at ${this.base.origin}: ${code ?? (error as Error).message}; check that NetBox runs and that netbox.url is right`,
      );
    }
    let text: string;
    try {
      text = await response.body.text();
    } catch (error) {
      throw new NetboxError(
        `NetBox at ${this.base.origin} stopped sending ${this.describe(url)}: ${(error as Error).message}; check NetBox's web server log`,
      );
    }
    const status = response.statusCode;
    if (status === 401 || status === 403) {
      throw new NetboxError(
        `NetBox at ${this.base.origin} refused the API token (HTTP ${status}) for ${this.describe(url)}; check ${this.config.tokenFile ?? `$${this.config.tokenEnv}`}`,
      );
    }
    if (status >= 300 && status < 400) {
      throw new NetboxError(
        `NetBox answered HTTP ${status} (redirect) for ${this.describe(url)}; set netbox.url to the final address`,
      );
    }
    if (status !== 200) {
      const detail = text.replace(/\s+/g, ' ').slice(0, 200).split(this.token).join('***');
      const check = status >= 500 ? "check NetBox's own log" : 'check netbox.url';
      throw new NetboxError(
        `NetBox at ${this.base.origin} answered HTTP ${status} for ${this.describe(url)}${detail ? `: ${detail}` : ''}; ${check}`,
        status,
      );
    }
    try {
      return JSON.parse(text);
    } catch {
      throw new NetboxError(`NetBox answered ${this.describe(url)} with something other than JSON`);
    }
  }
}

/** The custom fields read per object; each overrides the inventory's defaults for that host. */
export const netboxCustomFields = {
  backup_servers: 'servers',
  backup_paths: 'paths',
  backup_excludes: 'excludes',
  backup_schedule: 'schedule',
  backup_blackout: 'blackout',
  backup_enabled: 'enabled',
  backup_group: 'group',
} as const;

/** NetBox 4.7 and later return a selection custom field as `{value, label}`; older ones the raw value.
 * Both give the raw value here. */
function selectionValue(value: unknown): unknown {
  if (value && typeof value === 'object' && !Array.isArray(value) && 'value' in value)
    return (value as { value: unknown }).value;
  return value;
}

/** Lists from multi-select fields as they are; text fields split on commas and new lines (and spaces for
 * servers). An empty selection (`[]` after the API cleared it, `null` after the web UI did) is not set.
 * Any other non-empty value is passed on as it is, for the schema to refuse naming the field. */
function listField(raw: unknown, splitSpaces: boolean): unknown {
  const value = selectionValue(raw);
  if (Array.isArray(value)) {
    const items = value
      .map(selectionValue)
      .map((item) => (typeof item === 'string' ? item.trim() : item))
      .filter((item) => item !== '' && item !== null);
    return items.length > 0 ? items : undefined;
  }
  if (value === null || value === undefined) return undefined;
  if (typeof value !== 'string') return value;
  const items = value
    .split(splitSpaces ? /[\s,]+/ : /[\n,]+/)
    .map((item) => item.trim())
    .filter(Boolean);
  return items.length > 0 ? items : undefined;
}

/** A `backup_schedule` text field: daily, hourly, "every 6h" / "6h", "cron 30 2 * * *" or a bare cron line. */
export function parseScheduleText(raw: unknown): unknown {
  const value = selectionValue(raw);
  if (value === null || value === undefined) return undefined;
  // Anything but text is passed on as it is, for the schema to refuse naming the field.
  if (typeof value !== 'string') return value;
  const text = value.trim();
  if (text === '') return undefined;
  if (text === 'daily' || text === 'hourly') return text;
  const every = /^(?:every\s+)?(\d+[smhdw](?:\d+[smhdw])*)$/.exec(text);
  if (every) return { every: every[1] };
  const cron = /^(?:cron\s+)?(\S+(?:\s+\S+){4,6})$/.exec(text);
  if (cron) return { cron: cron[1] };
  return text;
}

function customFieldEntry(fields: Record<string, unknown>): Record<string, unknown> {
  const entry: Record<string, unknown> = {};
  const servers = listField(fields.backup_servers, true);
  if (servers !== undefined) entry.servers = servers;
  const paths = listField(fields.backup_paths, false);
  if (paths !== undefined) entry.paths = paths;
  const excludes = listField(fields.backup_excludes, false);
  if (excludes !== undefined) entry.excludes = excludes;
  const blackout = listField(fields.backup_blackout, false);
  if (blackout !== undefined) entry.blackout = blackout;
  const schedule = parseScheduleText(fields.backup_schedule);
  if (schedule !== undefined) entry.schedule = schedule;
  // `group` is the name PlanB's exports use; `backup_group` wins when both are set.
  const group = selectionValue(fields.backup_group ?? fields.group);
  if (group !== null && group !== undefined && group !== '') entry.group = group;
  const enabled = selectionValue(fields.backup_enabled);
  if (enabled !== null && enabled !== undefined && enabled !== '') entry.enabled = enabled;
  return entry;
}

/** The fields Tidemark reads of an object: NetBox 4 sends only these (older versions ignore `fields`),
 * instead of every object's config context. */
const objectFields = 'id,name,primary_ip,primary_ip4,primary_ip6,tags,custom_fields';

/** The ssh target of an object by netbox.address; undefined when it has no such IP. */
function objectAddress(object: NetboxObject, choice: NetboxAddressChoice): string | undefined {
  const order = {
    primary_ip: [object.primary_ip, object.primary_ip4, object.primary_ip6],
    primary_ip4: [object.primary_ip4, object.primary_ip6],
    primary_ip6: [object.primary_ip6, object.primary_ip4],
    name: [],
  }[choice];
  const address = order.find((ip) => typeof ip?.address === 'string')?.address;
  return address?.replace(/\/\d+$/, '');
}

/** Devices and virtual machines carrying the tag, as host entries (names may repeat: a device and a
 * virtual machine can share one; mergeNetboxHosts picks). Throws NetboxError on any failure. */
export async function fetchNetboxHosts(
  config: NetboxConfig,
  env: NodeJS.ProcessEnv = process.env,
): Promise<NetboxAnswer> {
  const token = await readNetboxToken(config, env);
  const client = new NetboxClient(config, token);
  const tag = await resolveTag(client, config.tag);
  const query = { tag: tag.slug, limit: '500', fields: objectFields };
  const [devices, machines] = await Promise.all([
    client.list('api/dcim/devices/', query),
    client.list('api/virtualization/virtual-machines/', query),
  ]);
  const warnings: string[] = [];
  const hosts: NetboxHost[] = [];
  const take = (kind: NetboxHost['kind'], objects: unknown[]) => {
    for (const raw of objects) {
      if (!raw || typeof raw !== 'object') continue;
      const object = raw as NetboxObject;
      // NetBox already filtered by tag; check again so a proxy or an older NetBox ignoring ?tag= cannot widen the set.
      if (!Array.isArray(object.tags) || !object.tags.some((t) => t?.slug === tag.slug || t?.name === tag.name))
        continue;
      const label = `${kind} ${object.id ?? '?'}`;
      if (typeof object.name !== 'string' || object.name.trim() === '') {
        warnings.push(`netbox: ${label} has no name; skipped`);
        continue;
      }
      const name = object.name.trim().toLowerCase();
      const entry: Record<string, unknown> = {};
      const ip = config.address === 'name' ? undefined : objectAddress(object, config.address);
      if (ip) entry.address = ip;
      else {
        if (config.address !== 'name')
          warnings.push(
            `netbox: ${kind} ${printable(name).replace(/^"(.*)"$/, '$1')} has no primary IP; using its name as the ssh target`,
          );
        entry.address = name;
      }
      const customFields = object.custom_fields;
      Object.assign(entry, customFieldEntry(customFields && typeof customFields === 'object' ? customFields : {}));
      hosts.push({ name, kind, id: object.id ?? 0, entry });
    }
  };
  take('device', devices);
  take('virtual-machine', machines);
  // Stable: by name, a device before a virtual machine of the same name.
  return { hosts: hosts.sort((a, b) => a.name.localeCompare(b.name)), warnings };
}

/** The tag by exact name first (SOWN matched the name "Backup"), else by slug. */
async function resolveTag(client: NetboxClient, wanted: string): Promise<{ name: string; slug: string }> {
  for (const filter of [{ name: wanted }, { slug: wanted.toLowerCase() }] as Array<Record<string, string>>) {
    const found = (await client.list('api/extras/tags/', filter)) as Array<{ name?: string; slug?: string }>;
    const match = found.find((tag) => tag.name === wanted || tag.slug === wanted.toLowerCase());
    if (match?.slug) return { name: match.name ?? match.slug, slug: match.slug };
  }
  throw new NetboxError(`NetBox has no tag named or slugged "${wanted}" (netbox.tag); nothing was changed`);
}

/** What NetBox now says of one object: its name and whether it carries the tag. */
export interface NetboxObjectState {
  kind: NetboxHost['kind'];
  id: number;
  name: string;
  tagged: boolean;
}

const objectPaths: Record<NetboxHost['kind'], string> = {
  device: 'api/dcim/devices/',
  'virtual-machine': 'api/virtualization/virtual-machines/',
};

function objectState(kind: NetboxHost['kind'], raw: unknown, tag: string): NetboxObjectState | undefined {
  if (!raw || typeof raw !== 'object') return undefined;
  const object = raw as NetboxObject;
  const wanted = tag.toLowerCase();
  return {
    kind,
    id: object.id ?? 0,
    name: typeof object.name === 'string' ? object.name : '',
    tagged:
      Array.isArray(object.tags) &&
      object.tags.some(
        (t) => t?.name === tag || t?.slug?.toLowerCase() === wanted || t?.name?.toLowerCase() === wanted,
      ),
  };
}

/** For a host that is not among the tagged ones: the objects NetBox has by that name (any tag), or by the
 * id a kept answer knew it under (undefined state: deleted). Asked only when a verb cannot find a host. */
export async function lookUpNetboxObjects(
  config: NetboxConfig,
  search: { name: string; known?: Array<{ kind: NetboxHost['kind']; id: number }> },
  env: NodeJS.ProcessEnv = process.env,
): Promise<{
  byName: NetboxObjectState[];
  byId: Array<{ kind: NetboxHost['kind']; id: number; now: NetboxObjectState | undefined }>;
}> {
  const client = new NetboxClient(config, await readNetboxToken(config, env));
  const query = { name__ie: search.name, limit: '50', fields: 'id,name,tags' };
  const byName = (
    await Promise.all(
      (Object.keys(objectPaths) as Array<NetboxHost['kind']>).map(async (kind) =>
        (await client.list(objectPaths[kind], query)).map((raw) => objectState(kind, raw, config.tag)),
      ),
    )
  )
    .flat()
    // Checked again: a NetBox (or proxy) ignoring ?name__ie= answers with every object.
    .filter((state): state is NetboxObjectState => state?.name.toLowerCase() === search.name.toLowerCase());
  const byId = await Promise.all(
    (search.known ?? []).map(async ({ kind, id }) => ({
      kind,
      id,
      now: objectState(kind, await client.one(`${objectPaths[kind]}${id}/?fields=id,name,tags`), config.tag),
    })),
  );
  return { byName, byId };
}
