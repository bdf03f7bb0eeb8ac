// Host-controlled text (hook output, veto names, rsync and ssh messages, file names) is shown, never
// obeyed: control characters reach terminals, mail and webhooks as visible escapes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { activityFailure } from '../domain/failures.js';
import { printable } from '../domain/printable.js';

test('escape sequences, bells, carriage returns and bidi overrides are written out; newlines and tabs stay', () => {
  assert.equal(printable('\x1b[2J\x1b[31mOK\x07'), '\\u{1b}[2J\\u{1b}[31mOK\\u{7}');
  assert.equal(printable('all good\rFAILED'), 'all good\\u{d}FAILED');
  assert.equal(printable('file\u202eexe.txt'), 'file\\u{202e}exe.txt');
  assert.equal(printable('\x9b31m'), '\\u{9b}31m', 'the 8-bit CSI too');
  assert.equal(printable('line one\n\tline two'), 'line one\n\tline two');
});

test("an activity failure carrying a host's message carries it escaped", () => {
  const failure = activityFailure('rsync: \x1b]0;pwned\x07 vanished', 'RsyncFailed');
  assert.equal(failure.message, 'rsync: \\u{1b}]0;pwned\\u{7} vanished');
  assert.ok(!failure.message.includes('\x1b'));
});
