// `npm run demo` / scripts/demo.sh: one real backup on embedded defaults, then where to look.
// Temporal dev server (kept running for the UI), zfs-fuse pool in .cache/demo, demo host on 127.0.0.2.
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { execa } from 'execa';
import { stringify } from 'yaml';
import { cacheDir } from './paths.js';
import { waitFor } from './process.js';
import { createLoopbackHost } from './sshd.js';
import { startDevServer } from './temporal-dev.js';
import { ensureFilePool } from './zfs-pool.js';

const demoDir = join(cacheDir, 'demo');
const temporalAddress = '127.0.0.1:7233';
const cli = join(cacheDir, '..', 'dist', 'client', 'cli.js');

async function temporalAnswers(): Promise<boolean> {
  try {
    const connection = await Connection.connect({ address: temporalAddress, connectTimeout: '1s' });
    await connection.close();
    return true;
  } catch {
    return false;
  }
}

/** A small tree that looks like a server: config, a web root, a database dump, a hard link. */
async function writeDemoTree(root: string): Promise<void> {
  await mkdir(join(root, 'etc/nginx'), { recursive: true });
  await mkdir(join(root, 'var/www/html'), { recursive: true });
  await mkdir(join(root, 'var/lib/backup'), { recursive: true });
  await writeFile(join(root, 'etc/hostname'), 'demo-host\n');
  await writeFile(
    join(root, 'etc/nginx/nginx.conf'),
    'events {}\nhttp { server { listen 80; root /var/www/html; } }\n',
  );
  for (let page = 0; page < 50; page++)
    await writeFile(join(root, `var/www/html/page-${page}.html`), `<h1>page ${page}</h1>\n`.repeat(50));
  await writeFile(
    join(root, 'var/lib/backup/db.sql'),
    `-- dump at ${new Date().toISOString()}\n${'INSERT INTO t VALUES (1);\n'.repeat(20_000)}`,
  );
  await execa('ln', ['-f', join(root, 'etc/hostname'), join(root, 'etc/hostname.hardlink')]);
}

await mkdir(demoDir, { recursive: true });
console.log('demo: ZFS pool tidemark-demo (file-backed, .cache/demo/pool.img)');
await ensureFilePool({
  name: 'tidemark-demo',
  imageFile: join(demoDir, 'pool.img'),
  mountpoint: join(demoDir, 'pool'),
  size: '2G',
});

let uiUrl = 'http://127.0.0.1:8233';
if (await temporalAnswers()) {
  console.log(`demo: using the Temporal server already on ${temporalAddress}`);
} else {
  const server = await startDevServer({
    port: 7233,
    uiPort: 8233,
    dbFile: join(demoDir, 'temporal.db'),
    detached: true,
  });
  uiUrl = server.uiUrl ?? uiUrl;
  console.log(
    `demo: started the Temporal dev server (pid ${server.pid}, history in .cache/demo/temporal.db, kept 30 days)`,
  );
}

const hostRoot = join(demoDir, 'host-root');
await writeDemoTree(hostRoot);
const host = await createLoopbackHost(join(demoDir, 'host-ssh'), '127.0.0.2');
await host.start();
console.log(`demo: demo host "demo-host" is a real sshd on ${host.address}:${host.port}, serving ${hostRoot}`);

const inventoryPath = join(demoDir, 'tidemark.yaml');
await writeFile(
  inventoryPath,
  stringify({
    temporal: { address: temporalAddress, uiUrl },
    ssh: { identityFile: host.identityFile, knownHostsFile: host.knownHostsFile },
    servers: { 'demo-server': { dataset: 'tidemark-demo/backups', concurrency: 2 } },
    hosts: { 'demo-host': { address: host.address, port: host.port, user: 'root', paths: [hostRoot] } },
  }),
);

// A server that was already running may predate the search attributes: the verb production uses adds them.
await execa(process.execPath, [cli, '--config', inventoryPath, 'temporal', 'setup'], { stdio: 'inherit' });

const worker = spawn(process.execPath, [cli, '--config', inventoryPath, 'worker', '--server', 'demo-server'], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
let workerOutput = '';
worker.stdout.on('data', (chunk: Buffer) => (workerOutput += chunk.toString()));
try {
  await waitFor('worker', async () => workerOutput.includes('polling'), 30_000);
  console.log('demo: worker for demo-server is polling; starting the backup\n');
  const run = await execa(
    process.execPath,
    [cli, '--config', inventoryPath, 'start-backup', '--host', 'demo-host', '--wait'],
    { stdio: 'inherit', reject: false },
  );
  const mountpoint = (
    await execa('zfs', ['get', '-H', '-o', 'value', 'mountpoint', 'tidemark-demo/backups/demo-host'], { reject: false })
  ).stdout.trim();
  const snapshots = (
    await execa('zfs', ['list', '-H', '-t', 'snapshot', '-o', 'name', '-r', 'tidemark-demo/backups/demo-host'], {
      reject: false,
    })
  ).stdout;
  console.log(`
Where to look:
  Temporal Web UI:  ${uiUrl}  (workflow "backup:demo-host@demo-server"; the dev server keeps running)
  Runs of the host: temporal workflow list --query "TidemarkHost='demo-host'"   or: tidemark status
  Current copy:     ${mountpoint}${hostRoot}
  Snapshots:        ${snapshots.split('\n').filter(Boolean).join(', ') || '(none)'}
  Inventory:        ${inventoryPath}
  Again:            node dist/client/cli.js --config ${inventoryPath} start-backup --host demo-host --wait
                    (with a worker running: node dist/client/cli.js --config ${inventoryPath} worker --server demo-server)`);
  process.exitCode = run.exitCode ?? 1;
} finally {
  worker.kill('SIGTERM');
  await host.stop();
}
