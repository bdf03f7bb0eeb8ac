// The inventory a worker runs on. Each read takes the file as it is now when it validates (a host entry that
// does not is left out, inventory/load.ts); when the file no longer validates at all, the worker goes on with
// the last inventory it validated, kept in memory and in a copy on disk (its time and hash beside it), and
// every read says since when the file is invalid and why: runs end WARNING with it, so monitoring hears.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { TidemarkError } from '../domain/errors.js';
import { invalidHostWarnings, parseInventoryIsolatingHosts, type IsolatedInventory } from './load.js';
import { resolveMonitoring } from './resolve.js';

export interface InventoryReading {
  inventory: IsolatedInventory;
  /** Host entries left out; the file being invalid (then `inventory` is the last valid one). */
  warnings: string[];
}

/** What is kept of the last inventory validated: its text, so it is validated again when read back. */
interface ValidatedCopy {
  validatedAt: string;
  sha256: string;
  path: string;
  text: string;
}

/** Name of the copy, beside the server's state file (default /var/lib/tidemark/inventory.last-valid.json). */
export const validatedCopyName = 'inventory.last-valid.json';

export class KeptInventory {
  #kept: (ValidatedCopy & { inventory: IsolatedInventory }) | undefined;
  #invalidSince: string | undefined;

  /** `server`: whose state folder holds the copy on disk; absent, the copy lives in memory only. */
  constructor(
    readonly path: string,
    readonly server?: string,
  ) {}

  async read(now = new Date()): Promise<InventoryReading> {
    let text: string | undefined;
    try {
      text = await readFile(this.path, 'utf8');
      const inventory = parseInventoryIsolatingHosts(text, this.path);
      this.#invalidSince = undefined;
      await this.#keep(text, inventory, now);
      return { inventory, warnings: invalidHostWarnings(inventory) };
    } catch (error) {
      const problem =
        error instanceof TidemarkError
          ? error.message
          : `cannot read inventory ${this.path}: ${(error as Error).message}`;
      const kept = this.#kept ?? (await this.#readCopy());
      if (!kept) throw error instanceof TidemarkError ? error : new TidemarkError('CONFIG_NOT_FOUND', problem);
      this.#invalidSince ??= now.toISOString();
      const why = problem.split('\n').join('; ').slice(0, 600);
      return {
        inventory: kept.inventory,
        warnings: [
          `inventory invalid since ${this.#invalidSince}: ${why}; running on the inventory validated at ${kept.validatedAt} (sha256 ${kept.sha256.slice(0, 12)}): fix ${this.path} ("tidemark config check")`,
        ],
      };
    }
  }

  /** Where the copy on disk lives for this inventory (undefined: no server, memory only). */
  #copyFile(inventory: IsolatedInventory | undefined): string | undefined {
    if (this.server === undefined) return undefined;
    const stateFile = inventory ? resolveMonitoring(inventory, this.server).stateFile : '/var/lib/tidemark/state.json';
    return join(dirname(stateFile), validatedCopyName);
  }

  async #keep(text: string, inventory: IsolatedInventory, now: Date): Promise<void> {
    const sha256 = createHash('sha256').update(text).digest('hex');
    if (this.#kept?.sha256 === sha256) {
      this.#kept.inventory = inventory;
      return;
    }
    this.#kept = { validatedAt: now.toISOString(), sha256, path: this.path, text, inventory };
    const file = this.#copyFile(inventory);
    if (!file) return;
    // A copy that cannot be written leaves the one in memory: the worker goes on either way.
    const temporary = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    const { inventory: _, ...copy } = this.#kept;
    await mkdir(dirname(file), { recursive: true, mode: 0o700 })
      .then(() => writeFile(temporary, `${JSON.stringify(copy)}\n`, { mode: 0o600 }))
      .then(() => rename(temporary, file))
      .catch(() => undefined);
  }

  /** The copy on disk (a worker started while the file was already broken), validated again. */
  async #readCopy(): Promise<(ValidatedCopy & { inventory: IsolatedInventory }) | undefined> {
    const file = this.#copyFile(undefined);
    if (!file) return undefined;
    try {
      const copy = JSON.parse(await readFile(file, 'utf8')) as ValidatedCopy;
      this.#kept = { ...copy, inventory: parseInventoryIsolatingHosts(copy.text, `${file} (copy of ${copy.path})`) };
      return this.#kept;
    } catch {
      return undefined;
    }
  }
}

const keepers = new Map<string, KeptInventory>();

/** The worker's inventory at `path`; `server` (given once, at worker start) puts the copy on disk. */
export function keptInventory(path: string, server?: string): KeptInventory {
  let keeper = keepers.get(path);
  if (!keeper || (server !== undefined && keeper.server !== server)) {
    keeper = new KeptInventory(path, server ?? keeper?.server);
    keepers.set(path, keeper);
  }
  return keeper;
}
