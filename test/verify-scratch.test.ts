// The restore half of a drill: sampled files restored into a scratch directory and checked. Real rsync
// and files on this machine (a directory stands in for the snapshot view).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { execa } from 'execa';
import { restoreIntoScratch, type ScratchFile } from '../client/verify-scratch.js';

let root: string;
let scratchParent: string;
const names = [
  Buffer.from('/etc/app.conf'),
  Buffer.from('/srv/it\'s\n"odd".txt'),
  Buffer.from([0x2f, 0x62, 0xe9, 0x2e, 0x62, 0x69, 0x6e]),
];

before(() => {
  root = mkdtempSync('/tmp/tidemark-scratch-root-');
  scratchParent = mkdtempSync('/tmp/tidemark-scratch-parent-');
  mkdirSync(join(root, 'etc'));
  mkdirSync(join(root, 'srv'));
  names.forEach((name, index) =>
    writeFileSync(Buffer.concat([Buffer.from(root), name]), `file ${index}\n`.repeat(index + 1)),
  );
});
after(async () => {
  await execa('umount', [join(scratchParent, 'tiny')], { reject: false });
  await execa('rm', ['-rf', root, scratchParent]);
});

async function sampled(): Promise<ScratchFile[]> {
  return Promise.all(
    names.map(async (remote) => {
      const local = Buffer.concat([Buffer.from(root), remote]);
      const stat = await lstat(local);
      return { local, remote, size: stat.size, mtime: Math.floor(stat.mtimeMs / 1000) };
    }),
  );
}

test('every sampled file (odd and non-UTF-8 names too) comes back identical, and the scratch directory is removed', async () => {
  const result = await restoreIntoScratch(root, await sampled(), scratchParent);
  assert.deepEqual(result, { identical: 3, differing: [] });
  assert.deepEqual(readdirSync(scratchParent), [], 'nothing left behind');
});

test('a restored file that does not match the snapshot is named with the difference', async () => {
  const files = await sampled();
  files[0] = { ...files[0]!, mtime: files[0]!.mtime - 60 };
  files[1] = { ...files[1]!, snapshotSha256: '0'.repeat(64) };
  files[2] = { ...files[2]!, size: files[2]!.size + 1 };
  const result = await restoreIntoScratch(root, files, scratchParent);
  assert.equal(result.identical, 0);
  assert.deepEqual(
    result.differing.map(({ path, reason }) => [path, reason.replace(/sha256 [0-9a-f]{64}/, 'sha256 …')]),
    [
      [names[0], 'restored with another modification time'],
      [names[1], `restored content differs (sha256 …, snapshot ${'0'.repeat(64)})`],
      [names[2], `restored with ${files[2]!.size - 1} bytes, the snapshot has ${files[2]!.size}`],
    ],
  );
  assert.deepEqual(readdirSync(scratchParent), []);
});

test('no room for the sample and its headroom in the scratch filesystem: not tried, and said why', async () => {
  const tiny = join(scratchParent, 'tiny');
  mkdirSync(tiny);
  await execa('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tidemark-test', tiny]);
  const files = await sampled();
  const needed = files.reduce((sum, file) => sum + file.size, 0);
  const result = await restoreIntoScratch(root, files, tiny);
  assert.equal(result.identical, 0);
  assert.deepEqual(result.differing, []);
  assert.equal(result.notTried, `${tiny} has 1048576 bytes free, the sample needs ${needed} and 268435456 to spare`);
  assert.deepEqual(readdirSync(tiny), []);
});
