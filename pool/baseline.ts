// The shrink guard's baseline: what the newest complete snapshot of a dataset recorded about itself
// (user properties set atomically with the snapshot). It travels with the data, so each backup server
// judges against its own copy.
import { snapshotProperties, type Baseline } from '../domain/guards.js';
import { parseSnapshotName } from '../domain/names.js';
import { getOneLevel } from './zfs.js';

/** The baseline of the newest complete Tidemark snapshot of `dataset`; undefined when there is none or
 * it predates the guards (no recorded figures): then the shrink guard has nothing to compare with. */
export async function readBaseline(dataset: string): Promise<Baseline | undefined> {
  const { files, bytes, mounts, written, filter } = snapshotProperties;
  const bySnapshot = new Map<string, Map<string, string>>();
  for (const { name: fullName, property, value } of await getOneLevel(dataset, [
    files,
    bytes,
    mounts,
    written,
    filter,
  ])) {
    const [owner, name] = fullName.split('@');
    if (owner !== dataset || name === undefined) continue;
    const properties = bySnapshot.get(name) ?? new Map<string, string>();
    properties.set(property, value);
    bySnapshot.set(name, properties);
  }
  const complete = [...bySnapshot.keys()]
    .map((name) => ({ name, parsed: parseSnapshotName(name) }))
    .filter((entry) => entry.parsed?.label === 'complete')
    .sort((a, b) => a.parsed!.takenAt.getTime() - b.parsed!.takenAt.getTime() || (a.name < b.name ? -1 : 1));
  const newest = complete.at(-1);
  if (!newest) return undefined;
  const properties = bySnapshot.get(newest.name)!;
  const number = (property: string) => {
    const value = Number(properties.get(property));
    return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  };
  const fileCount = number(files);
  const byteCount = number(bytes);
  if (fileCount === undefined || byteCount === undefined) return undefined;
  return {
    snapshot: newest.name,
    files: fileCount,
    bytes: byteCount,
    written: number(written) ?? 0,
    ...fingerprint(properties.get(filter)),
    ...parseMounts(properties.get(mounts)),
  };
}

function fingerprint(value: string | undefined): { filter?: string } {
  return value && /^[0-9a-f]{32}$/.test(value) ? { filter: value } : {};
}

function parseMounts(value: string | undefined): { mounts?: string[] } {
  if (!value || value === '-') return {};
  try {
    const parsed: unknown = JSON.parse(value);
    return Array.isArray(parsed) && parsed.every((item) => typeof item === 'string') ? { mounts: parsed } : {};
  } catch {
    return {};
  }
}
