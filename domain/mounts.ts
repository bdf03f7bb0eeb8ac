// What "the whole host" means: the local filesystems in its mount table, read at backup time.
// Pure: parsing /proc/self/mounts and choosing the mount points rsync copies (with --one-file-system).

/** One line of /proc/self/mounts (fields decoded: "\040" is a space). */
export interface MountEntry {
  source: string;
  target: string;
  fstype: string;
  options: string;
}

/** Disk filesystems that hold a host's data. Anything not listed here (or asked for) is skipped. */
export const localFilesystemTypes: readonly string[] = [
  'ext2',
  'ext3',
  'ext4',
  'xfs',
  'btrfs',
  'zfs',
  'f2fs',
  'jfs',
  'reiserfs',
  'vfat',
  'exfat',
  'ntfs',
  'ntfs3',
  'bcachefs',
  'nilfs2',
  'hfsplus',
  'ufs',
];

/** Network and cluster filesystems: backed up only with `includeNetworkMounts: true` (their own server
 * should back them up). */
export const networkFilesystemTypes: readonly string[] = [
  'nfs',
  'nfs4',
  'cifs',
  'smb3',
  'smbfs',
  'glusterfs',
  'fuse.glusterfs',
  'ceph',
  'fuse.ceph',
  'fuse.sshfs',
  'sshfs',
  '9p',
  'afs',
  'fuse.davfs2',
  'davfs',
  'lustre',
  'fuse.s3fs',
  'fuse.rclone',
  'gfs2',
  'ocfs2',
];

/** Kernel and memory filesystems: never backed up (their contents are made at boot or are not files). */
export const pseudoFilesystemTypes: readonly string[] = [
  'proc',
  'sysfs',
  'tmpfs',
  'devtmpfs',
  'devpts',
  'ramfs',
  'cgroup',
  'cgroup2',
  'overlay',
  'squashfs',
  'nsfs',
  'autofs',
  'mqueue',
  'hugetlbfs',
  'debugfs',
  'tracefs',
  'securityfs',
  'pstore',
  'efivarfs',
  'bpf',
  'configfs',
  'fusectl',
  'binfmt_misc',
  'rpc_pipefs',
  'nfsd',
  'selinuxfs',
  'iso9660',
  'udf',
  'fuse',
  'fuseblk',
  'fuse.lxcfs',
  'fuse.gvfsd-fuse',
  'fuse.portal',
  'fuse.zfs',
  'zfs-kstat',
];

export interface SelectionOptions {
  /** Only mount points at or under this directory count (default "/"); the root's own filesystem is copied from the root. */
  root: string;
  /** Also copy network filesystems. */
  includeNetworkMounts: boolean;
  /** Extra filesystem types to treat as local, e.g. "fuse.mergerfs". */
  extraTypes: readonly string[];
}

export type SkipReason =
  'pseudo' | 'network' | 'unknown type' | 'hidden' | 'under a skipped mount' | 'same filesystem' | 'unusable name';

export interface MountSelection {
  /** Source paths for rsync, parents before children: the root first when its filesystem is selected. */
  paths: string[];
  /** Mounts at or under the root that are not copied, and why (for the run summary). */
  skipped: { target: string; fstype: string; reason: SkipReason }[];
}

/** Lines of a host's mount table that are read at most (the probe's 4 MiB output cap admits ~200k): what
 * the host sends is bounded before any parsing. */
export const mountTableLineCap = 250_000;

/** Parses /proc/self/mounts (or /proc/mounts, /etc/mtab): six fields, octal escapes for space, tab, newline and "\". */
export function parseMountTable(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split('\n', mountTableLineCap)) {
    // Only the four fields read are split off and decoded (a host may send ~200k lines).
    const fields = line.trim().split(/\s+/, 4);
    if (fields.length < 3 || fields[0]!.startsWith('#')) continue;
    const target = unescapeMountField(fields[1]!);
    if (!target.startsWith('/')) continue;
    entries.push({
      source: unescapeMountField(fields[0]!),
      target: normalizePath(target),
      fstype: unescapeMountField(fields[2]!),
      options: unescapeMountField(fields[3] ?? ''),
    });
  }
  return entries;
}

function unescapeMountField(field: string): string {
  if (!field.includes('\\')) return field;
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/** "/a//b/" → "/a/b"; "/" stays "/". */
export function normalizePath(path: string): string {
  // Most paths already are (a mount table's are): skip the split.
  if (path.startsWith('/') && !/\/\/|\/\.(\/|$)|.\/$/.test(path)) return path;
  const normalized = `/${path
    .split('/')
    .filter((part) => part !== '' && part !== '.')
    .join('/')}`;
  return normalized;
}

/** True when `path` is `dir` or inside it. */
export function isUnder(path: string, dir: string): boolean {
  return dir === '/' || path === dir || path.startsWith(`${dir}/`);
}

const localTypes = new Set(localFilesystemTypes);
const networkTypes = new Set(networkFilesystemTypes);
const pseudoTypes = new Set(pseudoFilesystemTypes);

function classify(fstype: string, options: SelectionOptions, extraTypes: ReadonlySet<string>): 'local' | SkipReason {
  if (extraTypes.has(fstype)) return 'local';
  if (localTypes.has(fstype)) return 'local';
  if (networkTypes.has(fstype)) return options.includeNetworkMounts ? 'local' : 'network';
  if (pseudoTypes.has(fstype) || fstype.startsWith('fuse.') || fstype.startsWith('cgroup')) return 'pseudo';
  return 'unknown type';
}

/**
 * Chooses what to copy of a host: its root's filesystem plus every local filesystem mounted under the
 * root, each copied from its mount point (rsync --relative --one-file-system then stays on each).
 * Skipped: pseudo and network filesystems, mounts hidden by a later mount on the same directory, mounts
 * under a skipped mount (e.g. a USB disk under /run/media), and bind mounts of the filesystem they sit in
 * (rsync reaches them from the parent's copy). Btrfs subvolumes are kept (their own device numbers).
 */
export function selectMounts(entries: readonly MountEntry[], options: SelectionOptions): MountSelection {
  const root = normalizePath(options.root);
  // The mount visible at a mount point is the last one mounted there (the table lists mounts in order).
  // (A later mount on a parent would hide it too, but container tables do not list "/" first: ignored.)
  // Every step below is linear in the table (or in a path's depth): a host's table is its own to make long.
  const visibleAt = new Map<string, MountEntry>();
  for (const entry of entries) visibleAt.set(entry.target, entry);
  const visible: MountEntry[] = [];
  const hidden: MountEntry[] = [];
  for (const entry of entries) (visibleAt.get(entry.target) === entry ? visible : hidden).push(entry);
  // The filesystem holding the root: the deepest visible mount point containing it.
  const holder = visible
    .filter((entry) => isUnder(root, entry.target))
    .sort((a, b) => b.target.length - a.target.length)[0];
  // Code-unit order (parents before children): the built-in string sort, no comparator called per pair
  // (visible targets are unique, so each maps back to its entry).
  const candidates = visible
    .filter((entry) => entry.target !== root && isUnder(entry.target, root))
    .map((entry) => entry.target)
    .sort()
    .map((target) => visibleAt.get(target)!);
  const extraTypes = new Set(options.extraTypes);

  const paths: string[] = [];
  const skipped: MountSelection['skipped'] = [];
  const selected = new Set<MountEntry>();
  const skippedTargets = new Set<string>();
  const consider = (entry: MountEntry, path: string) => {
    let verdict = classify(entry.fstype, options, extraTypes);
    if (verdict === 'local' && /[\n\r]/.test(path)) verdict = 'unusable name';
    const above = verdict === 'local' ? ancestors(path) : [];
    if (verdict === 'local' && (skippedTargets.has(path) || above.some((target) => skippedTargets.has(target))))
      verdict = 'under a skipped mount';
    // A bind mount of the filesystem it sits in has the same device number, so rsync --one-file-system
    // already walks into it from the parent's copy (btrfs subvolumes differ in device number: kept).
    const parent = verdict === 'local' ? nearestMount(above, entry, visibleAt) : undefined;
    if (
      verdict === 'local' &&
      parent &&
      selected.has(parent) &&
      parent.source === entry.source &&
      parent.fstype === entry.fstype &&
      entry.fstype !== 'btrfs'
    ) {
      verdict = 'same filesystem';
    }
    if (verdict === 'local') {
      selected.add(entry);
      paths.push(path);
    } else {
      skipped.push({ target: path, fstype: entry.fstype, reason: verdict });
      // Mounts under a skipped one are skipped too (a USB disk under /run), except under the asked-for root.
      if (verdict !== 'same filesystem' && path !== root) skippedTargets.add(path);
    }
  };
  if (holder) consider(holder, root);
  for (const entry of candidates) consider(entry, entry.target);
  for (const entry of hidden) {
    if (isUnder(entry.target, root) && entry.target !== root)
      skipped.push({ target: entry.target, fstype: entry.fstype, reason: 'hidden' });
  }
  return { paths, skipped };
}

/** The deepest visible mount above `entry` (its ancestors `above`, deepest first), if any. */
function nearestMount(
  above: readonly string[],
  entry: MountEntry,
  visibleAt: ReadonlyMap<string, MountEntry>,
): MountEntry | undefined {
  for (const dir of above) {
    const other = visibleAt.get(dir);
    if (other !== undefined && other !== entry) return other;
  }
  return undefined;
}

/** "/a/b/c" → ["/a/b", "/a", "/"], deepest first; "/" has none. */
function ancestors(path: string): string[] {
  const found: string[] = [];
  for (let end = path.lastIndexOf('/'); path !== '/' && end >= 0; end = path.lastIndexOf('/', end - 1)) {
    found.push(end === 0 ? '/' : path.slice(0, end));
    if (end === 0) break;
  }
  return found;
}

/** What the probe keeps of a selection: every path, the first `listed` skipped mounts and how many were. */
export interface SelectedMounts {
  paths: string[];
  skipped: MountSelection['skipped'];
  skippedCount: number;
}

/** Parses a mount table and selects from it, keeping `listed` skipped mounts for the run's summary. */
export function selectFromMountTable(table: string, options: SelectionOptions, listed: number): SelectedMounts {
  const selection = selectMounts(parseMountTable(table), options);
  return {
    paths: selection.paths,
    skipped: selection.skipped.slice(0, listed),
    skippedCount: selection.skipped.length,
  };
}
