// The benchmark's smoke mode (bench/run-bench.ts --smoke) runs end to end and writes a result document with
// sane figures and a PNG chart. How long it takes is not asserted: on a busy machine a correct run takes
// minutes (the suite runs files side by side), and speed is what the benchmark itself measures.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { execa } from 'execa';
import type { BenchResult } from '../bench/report.js';

const benchPath = fileURLToPath(new URL('../bench/run-bench.js', import.meta.url));

test('bench --smoke: all methods run, JSON and PNG written, figures sane', { timeout: 900_000 }, async () => {
  const out = mkdtempSync('/tmp/tidemark-bench-smoke-');
  try {
    const args = [benchPath, '--smoke', '--out', out];
    // Reuse the suite's services when there are any (faster); the bench starts its own otherwise.
    if (process.env.TIDEMARK_TEST_TEMPORAL) args.push('--temporal', process.env.TIDEMARK_TEST_TEMPORAL);
    if (process.env.TIDEMARK_TEST_POOL) args.push('--pool', process.env.TIDEMARK_TEST_POOL);
    const run = await execa(process.execPath, args, { reject: false, all: true });
    assert.equal(run.exitCode, 0, run.all);
    assert.match(run.stdout, /^\s+(PASS|MISS|N\/A )\s+per-host overhead/m, 'the report lists targets');

    const files = readdirSync(out);
    const json = files.find((file) => /^smoke-.*\.json$/.test(file));
    const png = files.find((file) => /^smoke-.*\.png$/.test(file));
    assert.ok(json && png, `results written: ${files.join(', ')}`);
    assert.deepEqual(
      [...readFileSync(join(out, png)).subarray(0, 8)],
      [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
    );

    const result = JSON.parse(readFileSync(join(out, json), 'utf8')) as BenchResult;
    assert.equal(result.config.smoke, true);
    assert.deepEqual(result.config.workloads, ['full']);
    assert.deepEqual(result.runs.map((entry) => entry.method).sort(), [
      'bare',
      'bare-nometa',
      'planb',
      'sown',
      'tidemark',
      'tidemark-seq',
    ]);
    for (const entry of result.runs) {
      assert.ok(entry.wallMs > 0, `${entry.method}: wall time ${entry.wallMs}`);
      assert.equal(entry.hosts.length, result.config.hosts, `${entry.method}: one result per host`);
      for (const host of entry.hosts)
        assert.ok(host.ms > 0 && host.ms <= entry.wallMs + 1, `${entry.method} ${host.host}: ${host.ms} ms`);
      // A first full backup moves at least the tree's data over the wire.
      assert.ok(
        entry.bytesReceived >= result.fleet.totalMiB * 1024 * 1024 * 0.9,
        `${entry.method}: ${entry.bytesReceived} bytes`,
      );
    }
    const tidemark = result.runs.find((entry) => entry.method === 'tidemark')!;
    assert.ok(
      tidemark.worker && tidemark.worker.cpuS >= 0 && (tidemark.worker.peakMiB ?? 0) > 10,
      'worker CPU and RSS measured',
    );
    assert.ok(Number.isFinite(result.overhead.full?.medianMs), `overhead ${result.overhead.full?.medianMs}`);
    assert.ok(Number.isFinite(result.overhead.full?.medianPercent));
    assert.ok(result.idle && Number.isFinite(result.idle.percentOfOneCore) && result.idle.percentOfOneCore >= 0);
    assert.deepEqual(
      result.smallFleet?.phases.map((phase) => phase.workload),
      ['full', 'unchanged'],
      'the fleet comparison ran both workloads',
    );
    for (const phase of result.smallFleet!.phases)
      assert.ok(phase.bareLoopMs > 0 && phase.engineMs > 0 && phase.cliMs > 0, JSON.stringify(phase));
    assert.match(run.stdout, /(PASS|MISS)\s+2 small hosts, 2 x start-backup --wait/, 'the CLI comparison is a target');
    assert.ok(result.targets.length >= 5);
    for (const target of result.targets)
      assert.ok(target.pass === true || target.pass === false || target.pass === null, target.id);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
