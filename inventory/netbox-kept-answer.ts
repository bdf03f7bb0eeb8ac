// The last good NetBox answer, kept on disk on each backup server so that an outage of NetBox does not stop
// backups: mode 0600, no token (an answer holds names, addresses and custom fields only), with its time and
// which NetBox and tag it came from. It also remembers, per name, the objects that left the tagged set, so a
// verb can say a host was renamed or deleted in NetBox rather than just "unknown".
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { NetboxAnswer, NetboxConfig, NetboxHost } from './netbox.js';
import { resolveMonitoring } from './resolve.js';
import type { Inventory } from './schema.js';

export const keptAnswerName = 'netbox-answer.json';

/** The NetBox object a name once stood for. */
export type FormerObject = Pick<NetboxHost, 'kind' | 'id'>;

export interface KeptAnswer {
  /** When NetBox gave this answer (ISO time). */
  fetchedAt: string;
  /** Which NetBox, tag and address choice: another configuration's answer is not used. */
  source: string;
  answer: NetboxAnswer;
  /** Lower-case names of hosts that left the tagged set, with the object each was. */
  formerly: Record<string, FormerObject[]>;
}

/** Former names remembered at most: enough for a fleet's renames between two outages. */
const formerNamesKept = 2_000;

/** netbox.cacheFile, else netbox-answer.json beside the state file of `server` (else the first server's). */
export function keptAnswerFile(inventory: Inventory, server?: string): string {
  if (inventory.netbox?.cacheFile) return inventory.netbox.cacheFile;
  const owner = server ?? Object.keys(inventory.servers)[0] ?? '';
  return join(dirname(resolveMonitoring(inventory, owner).stateFile), keptAnswerName);
}

/** What identifies an answer's origin (never the token). */
export function answerSource(config: NetboxConfig): string {
  return JSON.stringify({ url: config.url, tag: config.tag, address: config.address });
}

/** The kept answer of this source, or undefined (none, unreadable, or another NetBox's). */
export async function readKeptAnswer(file: string, source: string): Promise<KeptAnswer | undefined> {
  try {
    const kept = JSON.parse(await readFile(file, 'utf8')) as KeptAnswer;
    if (kept.source !== source || !Array.isArray(kept.answer?.hosts) || Number.isNaN(Date.parse(kept.fetchedAt)))
      return undefined;
    return { ...kept, formerly: kept.formerly ?? {} };
  } catch {
    return undefined;
  }
}

/** Replaces the kept answer (atomically); a file that cannot be written is left as it was: the answer in
 * hand still serves this process. */
export async function keepAnswer(file: string, source: string, answer: NetboxAnswer, now: Date): Promise<void> {
  const previous = await readKeptAnswer(file, source);
  const formerly = formerObjects(previous, answer);
  const kept: KeptAnswer = { fetchedAt: now.toISOString(), source, answer, formerly };
  const temporary = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  await mkdir(dirname(file), { recursive: true, mode: 0o700 })
    .then(() => writeFile(temporary, `${JSON.stringify(kept)}\n`, { mode: 0o600 }))
    .then(() => rename(temporary, file))
    .catch(() => undefined);
}

/** The previous answer's objects whose name the new answer no longer has, added to what was remembered. */
function formerObjects(previous: KeptAnswer | undefined, answer: NetboxAnswer): Record<string, FormerObject[]> {
  const now = new Set(answer.hosts.map((host) => host.name));
  const formerly = new Map<string, FormerObject[]>(Object.entries(previous?.formerly ?? {}));
  for (const host of previous?.answer.hosts ?? [])
    if (!now.has(host.name)) {
      const known = formerly.get(host.name) ?? [];
      if (!known.some((object) => object.kind === host.kind && object.id === host.id))
        formerly.set(host.name, [...known, { kind: host.kind, id: host.id }]);
    }
  for (const name of now) formerly.delete(name);
  return Object.fromEntries([...formerly].slice(-formerNamesKept));
}
