// The guards' pure judgements: --max-delete, missing mounts, the shrink threshold, the pool verdict, and
// which stderr means a refused login or a full pool.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { poolFull, sshRefusal } from '../activities/ssh-failure.js';
import {
  baselineProperties,
  baselineWithoutPurge,
  defaultGuards,
  maxDeleteFor,
  missingMounts,
  purgeToCount,
  shrinkReason,
  type Baseline,
} from '../domain/guards.js';
import { judgePool } from '../pool/space.js';

const baseline: Baseline = {
  snapshot: 'tidemark-20261201T000000Z',
  files: 10_000,
  bytes: 1_000_000,
  written: 5_000,
  mounts: ['/', '/srv', '/home'],
};

test('--max-delete: a share of the baseline, never below the minimum; none without a baseline or with --allow-shrink', () => {
  assert.equal(maxDeleteFor(baseline, defaultGuards, false), 2_500);
  assert.equal(maxDeleteFor({ ...baseline, files: 40 }, defaultGuards, false), 50);
  assert.equal(maxDeleteFor(undefined, defaultGuards, false), undefined);
  assert.equal(maxDeleteFor(baseline, defaultGuards, true), undefined);
});

test('missing mounts: selected last time and not now', () => {
  assert.deepEqual(missingMounts(baseline, ['/', '/home'], false), ['/srv']);
  assert.deepEqual(missingMounts(baseline, ['/', '/home', '/srv', '/new'], false), []);
  assert.deepEqual(missingMounts(baseline, ['/'], true), []);
  assert.deepEqual(missingMounts({ ...baseline, mounts: undefined }, ['/'], false), []);
});

test('shrink: a drop of files or bytes beyond the threshold is named; growth and small drops are fine', () => {
  assert.equal(shrinkReason(baseline, { files: 7_500, bytes: 800_000 }, defaultGuards, false), undefined);
  assert.match(
    shrinkReason(baseline, { files: 1_000, bytes: 990_000 }, defaultGuards, false)!,
    /files 10000 → 1000 \(-90%\), more than guards.shrinkPercent 30%/,
  );
  assert.match(
    shrinkReason(baseline, { files: 10_000, bytes: 0 }, defaultGuards, false)!,
    /bytes 1000000 → 0 \(-100%\)/,
  );
  assert.equal(shrinkReason(baseline, { files: 0, bytes: 0 }, defaultGuards, true), undefined);
  assert.equal(
    shrinkReason({ ...baseline, files: 0, bytes: 0 }, { files: 0, bytes: 0 }, defaultGuards, false),
    undefined,
  );
});

test('baseline properties: figures, mounts as JSON, a suspect reason capped for older ZFS', () => {
  const pairs = baselineProperties({
    files: 3,
    bytes: 4,
    written: 5,
    mounts: ['/', '/srv'],
    suspect: 'x'.repeat(5_000),
  });
  assert.deepEqual(pairs.slice(0, 4), [
    'tidemark:files=3',
    'tidemark:bytes=4',
    'tidemark:written=5',
    'tidemark:mounts=["/","/srv"]',
  ]);
  assert.equal(pairs[4]!.length, 'tidemark:suspect='.length + 1_000);
});

test('pool verdict: ONLINE runs, DEGRADED warns, anything else refuses; the reserve counts the expected write', () => {
  const pool = { pool: 'data', health: 'ONLINE', availableBytes: 100 * 2 ** 30, sizeBytes: 1_000 * 2 ** 30 };
  assert.deepEqual(judgePool(pool, 2 ** 30, {}), { warnings: [] });
  assert.match(judgePool({ ...pool, health: 'DEGRADED' }, 0, {}).warnings[0]!, /DEGRADED/);
  assert.equal(judgePool({ ...pool, health: 'FAULTED' }, 0, {}).refuse?.type, 'PoolUnhealthy');
  // 5 % of 1000 GiB = 50 GiB; 100 GiB available - 60 GiB expected = 40 GiB left.
  assert.equal(judgePool(pool, 60 * 2 ** 30, {}).refuse?.type, 'PoolReserve');
  assert.deepEqual(judgePool(pool, 60 * 2 ** 30, { bytes: 10 * 2 ** 30 }), { warnings: [] });
  assert.match(
    judgePool(pool, 0, { percent: 99 }).refuse!.message,
    /100\.0 GiB available, the last run wrote 0 B, reserve 990\.0 GiB/,
  );
});

test("ssh refusals: only ssh's own 'Permission denied (publickey…)' is a refused login; rsync's EACCES and ENOSPC are not", () => {
  const plan = {
    ssh: { identityFile: '/etc/tidemark/id', knownHostsFile: '/etc/tidemark/known_hosts', hostKeyAlias: 'vpn' },
    source: { address: 'vpn', port: 22, user: 'root', sudo: false },
  };
  assert.equal(sshRefusal(plan, 'root@vpn: Permission denied (publickey,password).')?.type, 'SshAuthFailed');
  assert.equal(sshRefusal(plan, 'backup@vpn: Permission denied (keyboard-interactive).')?.type, 'SshAuthFailed');
  assert.equal(sshRefusal(plan, 'rsync: [receiver] mkstemp "/data/vpn/x" failed: Permission denied (13)'), undefined);
  assert.equal(sshRefusal(plan, 'Host key verification failed.')?.type, 'HostKeyRejected');
  assert.ok(poolFull('rsync: [receiver] write failed on "/data/vpn/big": No space left on device (28)'));
  assert.ok(!poolFull('rsync: [receiver] mkstemp failed: Permission denied (13)'));
});

test('what the rules newly exclude counts against neither --max-delete nor the shrink guard', () => {
  const purge = { entries: 6_000, bytes: 600_000 };
  // Room for the purge on top of 25 % of what stays.
  assert.equal(maxDeleteFor(baseline, defaultGuards, false, purge), 1_000 + 6_000);
  assert.equal(maxDeleteFor(baseline, defaultGuards, false, { entries: 0, bytes: 0 }), 2_500);
  const kept = baselineWithoutPurge(baseline, purge);
  assert.deepEqual([kept.files, kept.bytes], [4_000, 400_000]);
  assert.equal(shrinkReason(kept, { files: 4_000, bytes: 400_000 }, defaultGuards, false), undefined);
  assert.match(shrinkReason(kept, { files: 2_000, bytes: 400_000 }, defaultGuards, false) ?? '', /files 4000 → 2000/);
  // Counted only when the rules changed since the baseline (or were not recorded), never on a first run.
  assert.equal(purgeToCount({ ...baseline, filter: 'a'.repeat(32) }, 'a'.repeat(32), false), false);
  assert.equal(purgeToCount({ ...baseline, filter: 'a'.repeat(32) }, 'b'.repeat(32), false), true);
  assert.equal(purgeToCount(baseline, 'b'.repeat(32), false), true);
  assert.equal(purgeToCount(undefined, 'b'.repeat(32), false), false);
  assert.equal(purgeToCount(baseline, 'b'.repeat(32), true), false);
  assert.ok(
    baselineProperties({ files: 1, bytes: 2, written: 3, filter: 'c'.repeat(32) }).includes(
      `tidemark:filter=${'c'.repeat(32)}`,
    ),
  );
});
