// The environment rsync and ssh are started with: no argument-protection overrides, no secrets.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { noteSecretVariables, rsyncEnvironment } from '../subprocess/environment.js';

const worker = {
  PATH: '/usr/sbin:/usr/bin',
  HOME: '/root',
  LANG: 'C.UTF-8',
  TEMPORAL_ADDRESS: '127.0.0.1:7233',
  RSYNC_OLD_ARGS: '1',
  RSYNC_PROTECT_ARGS: '0',
  NB_CREDENTIAL: 'nbt_from-the-inventory',
  GITHUB_TOKEN: 'ghp_x',
  icinga_password: 'p',
  WEBHOOK_SECRET: 's',
  MAILGUN_API_KEY: 'k',
};

test('rsync and ssh children keep the ordinary variables and lose RSYNC_OLD_ARGS, RSYNC_PROTECT_ARGS and secrets', () => {
  const env = rsyncEnvironment(worker, ['NB_CREDENTIAL']);
  assert.deepEqual(env, {
    PATH: '/usr/sbin:/usr/bin',
    HOME: '/root',
    LANG: 'C.UTF-8',
    TEMPORAL_ADDRESS: '127.0.0.1:7233',
  });
  // A copy: the worker's own environment is untouched.
  assert.equal(worker.RSYNC_OLD_ARGS, '1');
});

test("the inventory's netbox.tokenEnv is dropped even when its name does not look secret", () => {
  assert.equal(rsyncEnvironment(worker).NB_CREDENTIAL, 'nbt_from-the-inventory', 'not yet named by an inventory');
  noteSecretVariables({ netbox: { url: 'https://netbox.example.org', tokenEnv: 'NB_CREDENTIAL' } });
  assert.equal(rsyncEnvironment(worker).NB_CREDENTIAL, undefined);
  assert.equal(rsyncEnvironment(worker).PATH, '/usr/sbin:/usr/bin');
});
