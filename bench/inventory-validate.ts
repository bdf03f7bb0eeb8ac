// How long a large inventory takes to read and validate: a generated file of N hosts (default 50,000)
// with the settings a real fleet uses (paths, excludes, schedules, blackout, cron, jitter, transfer),
// timed through parseInventory (YAML, duplicate keys, control characters, schema, cross-field checks)
// and through `tidemark config check` as a subprocess. Run: node dist/bench/inventory-validate.js [N]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseInventory } from '../inventory/load.js';

const count = Number(process.argv[2] ?? 50_000);
if (!Number.isInteger(count) || count < 1)
  throw new Error(`usage: inventory-validate.js [host count], got ${process.argv[2]}`);

/** The inventory text: every tenth host with its own paths and excludes, every seventh with a cron. */
function inventoryText(hosts: number): string {
  const lines = [
    'servers:',
    '  backup-1: { dataset: tank/backup }',
    '  backup-2: { dataset: data }',
    'defaults: { excludes: ["/var/cache/", "*.tmp"], blackout: ["09:00-17:00"], timezone: Europe/Amsterdam, transfer: { retryInterval: 30s } }',
    'hosts:',
  ];
  for (let i = 0; i < hosts; i++) {
    const extra =
      i % 10 === 0
        ? ', paths: ["/etc", "/srv/data"], excludes: ["/srv/data/cache/", "/home/*/.cache/"]'
        : i % 7 === 0
          ? ', schedule: { cron: "15 3 * * 1-5" }'
          : i % 5 === 0
            ? ', schedule: hourly, jitter: 5m'
            : '';
    lines.push(`  host-${i}.example.org: { address: 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}${extra} }`);
  }
  return `${lines.join('\n')}\n`;
}

const text = inventoryText(count);
const started = performance.now();
const inventory = parseInventory(text, 'bench');
const inProcessMs = performance.now() - started;
if (Object.keys(inventory.hosts).length !== count)
  throw new Error(`expected ${count} hosts, validated ${Object.keys(inventory.hosts).length}`);

const dir = mkdtempSync(join(tmpdir(), 'tidemark-inventory-bench-'));
try {
  const file = join(dir, 'tidemark.yaml');
  writeFileSync(file, text);
  const cli = fileURLToPath(new URL('../client/cli.js', import.meta.url));
  const cliStarted = performance.now();
  execFileSync(process.execPath, [cli, '--config', file, 'config', 'check'], {
    stdio: ['ignore', 'ignore', 'inherit'],
    maxBuffer: 1 << 30,
  });
  const cliMs = performance.now() - cliStarted;
  console.log(`${count} hosts, ${(text.length / 1e6).toFixed(1)} MB of YAML`);
  console.log(`parseInventory (in process): ${(inProcessMs / 1000).toFixed(2)} s`);
  console.log(`tidemark config check (subprocess, incl. Node start and the summary): ${(cliMs / 1000).toFixed(2)} s`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
