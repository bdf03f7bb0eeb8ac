// The known_hosts migration behind HostKeyAlias (subprocess/known-hosts.ts): a file with the host's key
// under its address only gets the same key under the host's name, once, with revocations kept; a name that
// already has an entry is never given another key. Real files and the real ssh-keygen, no sshd.
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { execa } from 'execa';
import { adoptAddressKeys, entriesFor } from '../subprocess/known-hosts.js';

let dir: string;
let keyA: string;
let keyB: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tidemark-known-hosts-'));
  const publicKey = async (name: string) => {
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', join(dir, name)]);
    return (await readFile(join(dir, `${name}.pub`), 'utf8')).split(' ').slice(0, 2).join(' ');
  };
  [keyA, keyB] = await Promise.all([publicKey('a'), publicKey('b')]);
});
after(() => rm(dir, { recursive: true, force: true }));

let files = 0;
async function knownHosts(text: string): Promise<string> {
  const file = join(dir, `known_hosts-${(files += 1)}`);
  await writeFile(file, text);
  return file;
}

/** The lines `adoptAddressKeys` added: what the file holds after `before`. */
async function added(file: string, before: string): Promise<string[]> {
  const text = await readFile(file, 'utf8');
  assert.ok(text.startsWith(before), `the file's own lines are kept:\n${text}`);
  return text.slice(before.length).split('\n').filter(Boolean);
}

test('an address entry on another port is copied under the name, once, and said once', async () => {
  const before = `other.example ${keyB}\n[10.0.0.5]:2222 ${keyA} root@web\n`;
  const file = await knownHosts(before);
  const said: string[] = [];
  const target = { knownHostsFile: file, alias: 'web', address: '10.0.0.5', port: 2222 };
  await adoptAddressKeys(target, (message) => said.push(message));
  await adoptAddressKeys(target, (message) => said.push(message));
  assert.deepEqual(
    (await added(file, before)).map((line) => line.split(' ').slice(0, 3).join(' ')),
    [`web ${keyA}`],
  );
  assert.equal(said.length, 1);
  assert.match(said[0]!, /web/);
  assert.ok(said[0]!.includes('[10.0.0.5]:2222') && said[0]!.includes(file), said[0]);
});

test('port 22: the plain address entry, hashed or not; the same address on another port is not it', async () => {
  const before = `[10.0.0.6]:2200 ${keyB}\n10.0.0.6 ${keyA}\n`;
  const plain = await knownHosts(before);
  await adoptAddressKeys({ knownHostsFile: plain, alias: 'db', address: '10.0.0.6', port: 22 });
  assert.deepEqual(
    (await added(plain, before)).map((line) => line.split(' ').slice(0, 3).join(' ')),
    [`db ${keyA}`],
  );

  const hashed = await knownHosts(before);
  await execa('ssh-keygen', ['-H', '-f', hashed]);
  const hashedBefore = await readFile(hashed, 'utf8');
  assert.doesNotMatch(hashedBefore, /10\.0\.0\.6/);
  await adoptAddressKeys({ knownHostsFile: hashed, alias: 'db', address: '10.0.0.6', port: 22 });
  assert.deepEqual(
    (await added(hashed, hashedBefore)).map((line) => line.split(' ').slice(0, 3).join(' ')),
    [`db ${keyA}`],
  );
});

test("a name that has an entry is left alone, even when the address's key differs", async () => {
  const before = `[10.0.0.7]:2222 ${keyA}\nweb ${keyB}\n`;
  const file = await knownHosts(before);
  const said: string[] = [];
  await adoptAddressKeys({ knownHostsFile: file, alias: 'web', address: '10.0.0.7', port: 2222 }, (message) =>
    said.push(message),
  );
  assert.equal(await readFile(file, 'utf8'), before);
  assert.deepEqual(said, []);
});

test('revocations and certificate authorities of the address come along; nothing for an unknown address', async () => {
  const before = `[10.0.0.8]:2222 ${keyA}\n@revoked [10.0.0.8]:2222 ${keyB}\n@cert-authority [10.0.0.8]:2222 ${keyB}`;
  const file = await knownHosts(before);
  await adoptAddressKeys({ knownHostsFile: file, alias: 'web', address: '10.0.0.8', port: 2222 });
  const lines = await added(file, `${before}\n`);
  assert.deepEqual(
    lines
      .map((line) =>
        line
          .split(' ')
          .slice(0, line.startsWith('@') ? 4 : 3)
          .join(' '),
      )
      .sort(),
    [`@cert-authority web ${keyB}`, `@revoked web ${keyB}`, `web ${keyA}`].sort(),
  );

  const unknown = await knownHosts(`[10.0.0.9]:2222 ${keyA}\n`);
  await adoptAddressKeys({ knownHostsFile: unknown, alias: 'web', address: '10.0.0.10', port: 2222 });
  assert.equal(await readFile(unknown, 'utf8'), `[10.0.0.9]:2222 ${keyA}\n`);
  // No file at all: nothing to copy from (ssh then says the key is not known).
  await adoptAddressKeys({ knownHostsFile: join(dir, 'absent'), alias: 'web', address: '10.0.0.9', port: 2222 });
  await assert.rejects(readFile(join(dir, 'absent')));
});

test('runs at once for one file add one entry per name', async () => {
  const before = `[10.0.0.11]:2222 ${keyA}\n[10.0.0.12]:2222 ${keyB}\n`;
  const file = await knownHosts(before);
  await Promise.all(
    [1, 2, 3, 4].flatMap(() => [
      adoptAddressKeys({ knownHostsFile: file, alias: 'one', address: '10.0.0.11', port: 2222 }),
      adoptAddressKeys({ knownHostsFile: file, alias: 'two', address: '10.0.0.12', port: 2222 }),
    ]),
  );
  assert.deepEqual((await added(file, before)).map((line) => line.split(' ').slice(0, 3).join(' ')).sort(), [
    `one ${keyA}`,
    `two ${keyB}`,
  ]);
});

test('a name known_hosts could misread is refused before anything is read or written', async () => {
  const before = `[10.0.0.13]:2222 ${keyA}\n`;
  const file = await knownHosts(before);
  for (const alias of ['*', 'a,b', '!web', '[web]:22', 'we b', '|1|x', '@revoked', '', 'Web\n']) {
    await assert.rejects(
      adoptAddressKeys({ knownHostsFile: file, alias, address: '10.0.0.13', port: 2222 }),
      /host key name/,
      alias,
    );
  }
  assert.equal(await readFile(file, 'utf8'), before);
});

test('a known_hosts the worker cannot write: the error names the file and the lines to add', async () => {
  const file = await knownHosts(`[10.0.0.14]:2222 ${keyA}\n`);
  // A mode stops an ordinary user; root needs the immutable attribute.
  await chmod(file, 0o444);
  if (process.getuid?.() === 0) await execa('chattr', ['+i', file]);
  try {
    await assert.rejects(
      adoptAddressKeys({ knownHostsFile: file, alias: 'web', address: '10.0.0.14', port: 2222 }),
      (error: Error) => error.message.includes(file) && error.message.includes(`web ${keyA}`),
    );
  } finally {
    if (process.getuid?.() === 0) await execa('chattr', ['-i', file]);
  }
});

test('a known_hosts that does not exist yet lists nothing (host-key on a fresh install)', async () => {
  assert.deepEqual(await entriesFor(join(dir, 'never-written'), 'web1'), []);
});
