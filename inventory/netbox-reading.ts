// NetBox's answer as every part of Tidemark reads it: one paged fetch per process shared by its verbs (a
// worker reuses it for a few minutes, so a burst of scheduled runs asks once), kept on disk after each
// success; while NetBox is unreachable or answers an error, the kept answer stands in with a WARNING naming
// its age, up to netbox.maxCacheAge. `sync` never uses the kept answer: it does not change schedules from
// anything but NetBox's own current answer.
import { durationText, formatDuration, parseDuration } from '../domain/duration.js';
import { fetchNetboxHosts, NetboxError, resolveNetboxConfig, type NetboxAnswer } from './netbox.js';
import { answerSource, keepAnswer, keptAnswerFile, readKeptAnswer } from './netbox-kept-answer.js';
import type { Inventory } from './schema.js';

export interface NetboxReading {
  answer: NetboxAnswer;
  /** The kept answer stands in for NetBox: one WARNING line saying so, with its age. */
  warnings: string[];
}

export interface NetboxReadOptions {
  env?: NodeJS.ProcessEnv;
  /** The worker's server (its state folder holds the kept answer); the CLI: the inventory's first server. */
  server?: string;
  /** Ask NetBox even when this process has a recent answer (`sync`). */
  fresh?: boolean;
  /** false: a NetBox failure throws even when an answer is kept (`sync`). Default true. */
  useKept?: boolean;
  now?: Date;
}

/** NetBox is down and the kept answer is older than netbox.maxCacheAge: waiting will not help a run. */
export class NetboxAnswerTooOld extends NetboxError {
  constructor(message: string) {
    super(message);
    this.name = 'NetboxAnswerTooOld';
  }
}

/** Default netbox.maxCacheAge: a long weekend of NetBox outage. */
export const defaultMaxCacheAge = '3d';

/** A process's answer is reused this long: one fetch serves a burst of scheduled runs or a CLI's verbs. */
const reuseMs = 5 * 60_000;
const answers = new Map<string, { at: number; answer: Promise<NetboxAnswer> }>();

/** NetBox's tagged hosts now, else (useKept) the kept answer with a WARNING; throws NetboxError otherwise. */
export async function readNetbox(inventory: Inventory, options: NetboxReadOptions = {}): Promise<NetboxReading> {
  const block = inventory.netbox;
  if (!block) return { answer: { hosts: [], warnings: [] }, warnings: [] };
  const config = resolveNetboxConfig(block);
  const source = answerSource(config);
  const file = keptAnswerFile(inventory, options.server);
  const env = options.env ?? process.env;
  const now = options.now ?? new Date();
  try {
    return {
      answer: await sharedAnswer(JSON.stringify(block), options.fresh === true, file, source, env),
      warnings: [],
    };
  } catch (error) {
    if (!(error instanceof NetboxError) || options.useKept === false) throw error;
    const kept = await readKeptAnswer(file, source);
    if (!kept) throw new NetboxError(`${error.message} (no earlier NetBox answer is kept in ${file})`, error.status);
    const maxAgeText = block.maxCacheAge ?? defaultMaxCacheAge;
    const maxAgeMs = parseDuration(maxAgeText) ?? 0;
    const ageMs = Math.max(0, now.getTime() - Date.parse(kept.fetchedAt));
    const age = formatDuration(ageMs, { days: true });
    if (ageMs > maxAgeMs)
      throw new NetboxAnswerTooOld(
        `${error.message}; the last good NetBox answer (${file}, from ${kept.fetchedAt}, ${age} old) is older than netbox.maxCacheAge (${durationText(maxAgeMs)}): hosts from NetBox cannot be resolved until NetBox answers`,
      );
    return {
      answer: kept.answer,
      warnings: [
        `NetBox unavailable: ${error.message}; using its last good answer, ${age} old (from ${kept.fetchedAt}, kept in ${file}; usable up to netbox.maxCacheAge ${durationText(maxAgeMs)})`,
      ],
    };
  }
}

function sharedAnswer(
  key: string,
  fresh: boolean,
  file: string,
  source: string,
  env: NodeJS.ProcessEnv,
): Promise<NetboxAnswer> {
  let shared = answers.get(key);
  if (fresh || !shared || Date.now() - shared.at > reuseMs) {
    const inventoryBlock = JSON.parse(key) as NonNullable<Inventory['netbox']>;
    const answer = fetchNetboxHosts(resolveNetboxConfig(inventoryBlock), env).then(async (fetched) => {
      await keepAnswer(file, source, fetched, new Date());
      return fetched;
    });
    shared = { at: Date.now(), answer };
    answers.set(key, shared);
    // A failed fetch is not reused: the next read (a retried step) asks NetBox again.
    answer.catch(() => {
      if (answers.get(key) === shared) answers.delete(key);
    });
  }
  return shared.answer;
}
