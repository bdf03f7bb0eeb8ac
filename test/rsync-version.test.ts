// The worker refuses to start with an rsync too old to keep paths away from the host's shell.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { execa } from 'execa';
import { checkRsyncVersion, parseRsyncVersion, rsyncVersionProblem } from '../worker/rsync-version.js';

const cliPath = fileURLToPath(new URL('../client/cli.js', import.meta.url));

test('versions: 3.4.0 and newer, or a distribution build with the CVE-2024-12087 fix, pass; older ones are refused naming the version and the fix', () => {
  assert.deepEqual(parseRsyncVersion('rsync  version 3.2.7  protocol version 31\nCopyright (C) 1996-2022'), [3, 2, 7]);
  assert.deepEqual(parseRsyncVersion('rsync  version v3.4.1  protocol version 32'), [3, 4, 1]);
  for (const good of ['3.4.0', '3.4.1', '3.5.0', '4.0.0'])
    assert.equal(rsyncVersionProblem(`rsync  version ${good}  protocol version 32`), undefined, good);
  // Debian 12's security update backports the fixes into 3.2.7.
  assert.equal(rsyncVersionProblem('rsync  version 3.2.7  protocol version 31', '3.2.7-1+deb12u1'), undefined);
  assert.equal(rsyncVersionProblem('rsync  version 3.2.7  protocol version 31', '3.2.7-1+deb12u2'), undefined);
  assert.match(
    rsyncVersionProblem('rsync  version 3.2.7  protocol version 31', '3.2.7-1') ?? '',
    /^rsync 3\.2\.7 \(package 3\.2\.7-1\) is too old: Tidemark needs 3\.4\.0 or newer, a build that fixes CVE-2024-12087/,
  );
  for (const old of ['3.3.0', '3.2.7', '3.2.6', '3.2.3', '2.6.9']) {
    assert.equal(
      rsyncVersionProblem(`rsync  version ${old}  protocol version 31`),
      `rsync ${old} is too old: Tidemark needs 3.4.0 or newer, a build that fixes CVE-2024-12087 (a backed-up host, the sender, could write outside the copy) and sends paths with --secluded-args; ` +
        "install rsync 3.4.0 or newer on this backup server (or Debian 12's security update 3.2.7-1+deb12u1)",
    );
  }
  assert.match(
    rsyncVersionProblem('openrsync: protocol version 29') ?? '',
    /^cannot tell the rsync version from `rsync --version` \(it said: "openrsync: protocol version 29"\); install rsync 3\.4\.0/,
  );
});

test("this machine's rsync passes the check", async () => {
  await checkRsyncVersion();
});

test('`tidemark worker` with rsync 3.2.3 on its PATH exits 2 naming the version and the fix, before connecting anywhere', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tidemark-rsync-version-'));
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'rsync'), '#!/bin/sh\necho "rsync  version 3.2.3  protocol version 31"\n');
  chmodSync(join(bin, 'rsync'), 0o755);
  const inventory = join(dir, 'tidemark.yaml');
  // Nothing listens on port 1: a worker that got past the check would fail differently.
  writeFileSync(inventory, 'temporal: { address: "127.0.0.1:1" }\nservers: { b1: { dataset: data } }\nhosts: {}\n');
  const result = await execa(process.execPath, [cliPath, '--config', inventory, 'worker', '--server', 'b1'], {
    reject: false,
    timeout: 30_000,
    env: { PATH: `${bin}:${process.env.PATH}` },
  });
  assert.equal(result.exitCode, 2, result.stderr);
  assert.match(
    result.stderr,
    /rsync 3\.2\.3 .*is too old: Tidemark needs 3\.4\.0 or newer.*install rsync 3\.4\.0 or newer on this backup server/,
  );
  await assert.rejects(
    checkRsyncVersion(join(dir, 'no-such-rsync')),
    /cannot run `\S+no-such-rsync --version` \(ENOENT\); install rsync 3\.4\.0 or newer/,
  );
});
