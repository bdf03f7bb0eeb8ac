// Parsing what the host answers `tidemark verify`: NUL-terminated records whose names may hold any byte.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseHashRecords, parseStatRecords } from '../client/verify-remote.js';

const odd = Buffer.concat([Buffer.from('/srv/a b\n"c" '), Buffer.from([0xe9]), Buffer.from('.txt')]);

test("stat records: size, mtime, regular or not, keyed by the name's exact bytes", () => {
  const output = Buffer.concat([
    Buffer.from('12 1700000000 81a4 '),
    odd,
    Buffer.from([0]),
    Buffer.from('4096 1600000000 41ed /srv/dir'),
    Buffer.from([0]),
  ]);
  const states = parseStatRecords(output);
  assert.deepEqual(states.get(odd.toString('latin1')), { size: 12, mtime: 1700000000, regular: true });
  assert.deepEqual(states.get('/srv/dir'), { size: 4096, mtime: 1600000000, regular: false });
  assert.equal(states.size, 2);
});

test('sha256sum -z records, text and binary mode', () => {
  const hash = 'ab'.repeat(32);
  const other = 'cd'.repeat(32);
  const output = Buffer.concat([
    Buffer.from(`${hash}  `),
    odd,
    Buffer.from([0]),
    Buffer.from(`${other} */srv/bin`),
    Buffer.from([0]),
  ]);
  const hashes = parseHashRecords(output);
  assert.equal(hashes.get(odd.toString('latin1')), hash);
  assert.equal(hashes.get('/srv/bin'), other);
});

test('output that is not a record is an error quoting it, not a silent skip', () => {
  assert.throws(
    () => parseStatRecords(Buffer.from('stat: something odd\0')),
    /unexpected stat output from the host: "stat: something odd"/,
  );
  assert.throws(() => parseHashRecords(Buffer.from('xyz  /srv/a\0')), /unexpected sha256sum output from the host/);
});
