// A file-backed pool whose file was deleted with its checkout (zfs-fuse imports it again at every start)
// blocks the demo's pool of that name: ensureFilePool destroys it only when it cannot be opened and every
// device is a file that is gone. The texts are `zpool status` as zfs-fuse prints it on this machine kind.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { poolOfVanishedFiles } from '../devenv/pool-status.js';

const unavailable = [
  '  pool: tidemark-demo',
  ' state: UNAVAIL',
  'status: One or more devices could not be opened.  There are insufficient',
  '\treplicas for the pool to continue functioning.',
  "action: Attach the missing device and online it using 'zpool online'.",
  '   see: http://www.sun.com/msg/ZFS-8000-3C',
  ' scrub: none requested',
  'config:',
  '',
  '\tNAME                                    STATE     READ WRITE CKSUM',
  '\ttidemark-demo                           UNAVAIL      0     0     0  insufficient replicas',
  '\t  /tmp/fresh-demo/.cache/demo/pool.img  UNAVAIL      0     0     0  cannot open',
  '',
].join('\n');

test('an unavailable pool whose only device is a vanished file is stale; nothing else is', () => {
  assert.equal(
    poolOfVanishedFiles(unavailable, () => false),
    true,
  );
  // The file is there (unplugged disk, a mount not up yet): keep the pool.
  assert.equal(
    poolOfVanishedFiles(unavailable, () => true),
    false,
  );
  const online = unavailable.replaceAll('UNAVAIL', 'ONLINE');
  assert.equal(
    poolOfVanishedFiles(online, () => false),
    false,
  );
  // A real disk beside the vanished file: not ours to destroy.
  const withDisk = unavailable.replace(
    '\t  /tmp/fresh-demo/.cache/demo/pool.img  UNAVAIL',
    '\t  sdb                                   UNAVAIL      0     0     0  cannot open\n\t  /tmp/fresh-demo/.cache/demo/pool.img  UNAVAIL',
  );
  assert.equal(
    poolOfVanishedFiles(withDisk, () => false),
    false,
  );
  assert.equal(
    poolOfVanishedFiles("cannot open 'x': no such pool", () => false),
    false,
  );
});
