// The worker's log format without services: a child process writes through the logger to a pipe, as
// under systemd or docker, and every call must come out as exactly one JSON line.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { logLevels, readableLine } from '../worker/log.js';

const logModule = fileURLToPath(new URL('../worker/log.js', import.meta.url));

/** Runs `body` in a fresh Node process with `sdkLogger` and `tidemarkLog` in scope; returns its stdout lines. */
async function logOutput(body: string, env: Record<string, string> = {}): Promise<string[]> {
  const script = `const { sdkLogger, tidemarkLog } = await import(${JSON.stringify(logModule)});\n${body}`;
  const result = await execa(process.execPath, ['--input-type=module', '-e', script], { env, extendEnv: false });
  assert.equal(result.stderr, '');
  return result.stdout.split('\n').filter(Boolean);
}

test('SDK calls through the logger: one JSON line each, metadata as fields, an Error as message and stack in the same line', async () => {
  const lines = await logOutput(`
    const log = sdkLogger('WARN');
    log.info('not at WARN', { a: 1 });
    log.warn('Activity failed', { error: new Error('ssh exited 255'), durationMs: 12, activityType: 'probeHost' });
    log.log('ERROR', 'worker crashed', { error: new TypeError('bad') });
  `);
  assert.equal(lines.length, 2, lines.join('\n'));
  const [warning, crash] = lines.map((line) => JSON.parse(line) as Record<string, any>);
  assert.equal(warning!.level, 'warn');
  assert.equal(warning!.msg, 'Activity failed');
  assert.equal(warning!.source, 'temporal');
  assert.equal(warning!.durationMs, 12);
  assert.equal(warning!.activityType, 'probeHost');
  assert.equal(warning!.error.message, 'ssh exited 255');
  assert.match(warning!.error.stack, /^Error: ssh exited 255\n\s+at /);
  assert.equal(crash!.level, 'error');
  assert.equal(crash!.error.type, 'TypeError');
});

test('TIDEMARK_LOG_LEVEL: unset, Tidemark logs INFO and the SDK WARN; set, both follow it', async () => {
  const body = `
    tidemarkLog().info({ host: 'h1' }, 'own info');
    tidemarkLog().debug('own debug');
    sdkLogger(${'process.env.SDK_LEVEL'}).info('sdk info');
    sdkLogger(${'process.env.SDK_LEVEL'}).warn('sdk warn');
  `;
  const defaults = logLevels(undefined);
  assert.deepEqual(defaults, { tidemark: 'INFO', sdk: 'WARN' });
  const unset = await logOutput(body, { SDK_LEVEL: defaults.sdk });
  assert.deepEqual(
    unset.map((line) => JSON.parse(line).msg),
    ['own info', 'sdk warn'],
  );
  assert.equal(JSON.parse(unset[0]!).host, 'h1');

  const debug = logLevels('debug');
  const verbose = await logOutput(body, { TIDEMARK_LOG_LEVEL: 'debug', SDK_LEVEL: debug.sdk });
  assert.deepEqual(
    verbose.map((line) => JSON.parse(line).msg),
    ['own info', 'own debug', 'sdk info', 'sdk warn'],
  );
});

test('TIDEMARK_LOG_LEVEL with a wrong value names the variable and the levels', () => {
  assert.throws(
    () => logLevels('verbose'),
    /TIDEMARK_LOG_LEVEL: "verbose" is not a log level; use one of TRACE, DEBUG, INFO, WARN, ERROR/,
  );
});

test('on a terminal a line reads as time, level, message, then the fields', () => {
  const line = JSON.stringify({
    level: 'info',
    time: '2026-12-01T14:10:48.123Z',
    msg: 'backup of h1 on s1 ended SUCCESS: ok',
    host: 'h1',
    bytes: 4096,
    snapshot: null,
  });
  assert.equal(
    readableLine(line),
    '14:10:48 INFO  backup of h1 on s1 ended SUCCESS: ok  host=h1 bytes=4096 snapshot=null\n',
  );
});
