// The --wait watcher's phase query (client/transfer-progress.ts throttledQuery): one query at a time, the last
// answer while a query is slow or failing, so the copy figures describe already has keep being printed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { throttledQuery } from '../client/transfer-progress.js';

test('a failing query after a good one gives the last answer; the first answer is awaited; a slow one waits only the patience', async () => {
  const answers: Array<() => Promise<string>> = [
    async () => 'planning',
    async () => {
      throw new Error('query failed: the workflow worker is restarting');
    },
    () => new Promise<string>((resolve) => setTimeout(() => resolve('snapshot'), 200)),
  ];
  let asked = 0;
  const phase = throttledQuery(() => answers[asked++]!(), 50);
  assert.equal(await phase(true), 'planning');
  assert.equal(await phase(true), 'planning', 'a failed query keeps the last phase');
  const started = Date.now();
  assert.equal(await phase(true), 'planning', 'a slow query: the last phase after the patience');
  assert.ok(Date.now() - started < 150, `waited ${Date.now() - started} ms`);
  await new Promise((resolve) => setTimeout(resolve, 250));
  assert.equal(await phase(false), 'snapshot', 'its answer once it came');
  assert.equal(asked, 3, 'no second query while one was pending');
});
