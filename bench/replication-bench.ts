#!/usr/bin/env node
// `npm run bench:replication [-- --files 20000 --reps 3]`: the second copy of a host's daily change, made
// two ways, each --reps times on a fresh day of change (median reported):
//   pull-again   what SOWN's second backup server does: rsync the host again (Tidemark's flags), into its own pool
//   replicate    what a replication target gets instead: zfs send -i of the day's snapshot pair, over ssh
//                to a 127.0.0.x sshd whose key may only run deploy/server/tidemark-receive-filter
// Each case's wall time, bytes over the wire, and bytes read on the host (rsync's sender on the host runs
// under bench/io-wrap.py, which reads its /proc/<pid>/io at exit; replication never logs in to the host).
// The host is a loopback sshd serving a generated tree; the two servers are two pools in one zfs-fuse.
// Prints a table and writes results/replication-bench-<stamp>.json.
import { appendFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { cpus, loadavg, release } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { execa } from 'execa';
import { createLoopbackHost } from '../devenv/sshd.js';
import { projectRoot } from '../devenv/paths.js';
import { fullSystemFlags } from '../domain/rsync-args.js';
import { zfs } from '../pool/zfs.js';
import { createBenchPool } from './bench-pool.js';
import { cleanupStack } from './cleanup.js';
import { median } from './report.js';
import { writeResultJson } from './machine.js';

const integer = (min: number) => (text: string) => {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) throw new InvalidArgumentError(`expected an integer >= ${min}`);
  return value;
};

const options = new Command('bench:replication')
  .description('The second copy of a daily change: rsync pull again versus zfs send -i to another server')
  .option('--files <n>', 'small files (4 KiB) in the host tree', integer(1), 20_000)
  .option('--large-mb <n>', 'MiB in 4 large incompressible files', integer(1), 100)
  .option(
    '--change-percent <n>',
    'share of the small files rewritten each day, plus 1 MiB appended to a large one',
    integer(1),
    2,
  )
  .option('--reps <n>', 'days of change (the median is reported)', integer(1), 3)
  .option('--out <dir>', 'where the JSON goes', join(projectRoot, 'results'))
  .parse()
  .opts<{ files: number; largeMb: number; changePercent: number; reps: number; out: string }>();

const wrapPath = fileURLToPath(new URL('../../bench/io-wrap.py', import.meta.url));
const filterPath = fileURLToPath(new URL('../../deploy/server/tidemark-receive-filter', import.meta.url));
const log = (line: string) => console.log(`[bench:replication] ${line}`);
const cleanups = cleanupStack();

function sshArgs(host: { port: number; identityFile: string; knownHostsFile: string }): string[] {
  return [
    'ssh',
    '-F',
    '/dev/null',
    '-p',
    String(host.port),
    '-i',
    host.identityFile,
    '-o',
    'BatchMode=yes',
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    `UserKnownHostsFile=${host.knownHostsFile}`,
    '-o',
    'Compression=no',
    '-o',
    'Ciphers=aes128-gcm@openssh.com',
    '-l',
    'root',
  ];
}

async function writeTree(root: string): Promise<void> {
  for (let index = 0; index < options.files; index++) {
    const dir = join(root, 'small', String(index % 100));
    if (index < 100) mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `f${index}`), `${index}\n`.repeat(4096 / 8).slice(0, 4096));
  }
  mkdirSync(join(root, 'large'), { recursive: true });
  for (let index = 0; index < 4; index++)
    await execa('dd', [
      'if=/dev/urandom',
      `of=${join(root, 'large', `l${index}`)}`,
      'bs=1M',
      `count=${Math.ceil(options.largeMb / 4)}`,
      'status=none',
    ]);
}

function changeDay(root: string, day: number): void {
  const step = Math.max(1, Math.round(100 / options.changePercent));
  for (let index = day; index < options.files; index += step)
    writeFileSync(join(root, 'small', String(index % 100), `f${index}`), `day ${day} ${index}\n`.repeat(300));
  appendFileSync(join(root, 'large', 'l0'), Buffer.alloc(1024 * 1024, day));
}

async function main(): Promise<void> {
  const dir = await mkdtemp('/tmp/tidemark-replbench-');
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  const source = `tmbench${process.pid}`;
  const target = `tmbench${process.pid + 1_000_000}`;
  await createBenchPool(source, 4, cleanups, log);
  await createBenchPool(target, 4, cleanups, log);
  const host = await createLoopbackHost(join(dir, 'host'), '127.0.0.61');
  const receiver = await createLoopbackHost(join(dir, 'receiver'), '127.0.0.62');
  const sourceKey = (await readFile(`${host.identityFile}.pub`, 'utf8')).trim();
  writeFileSync(
    join(dir, 'receiver', 'authorized_keys'),
    `restrict,command="${filterPath} ${target}/r ${source}" ${sourceKey}\n`,
  );
  await host.start();
  await receiver.start();
  // The source server's key (here: the one the host accepts too) on the receiver, through its filter.
  const toReceiver = sshArgs({ ...receiver, identityFile: host.identityFile });
  cleanups.push(() => host.stop());
  cleanups.push(() => receiver.stop());
  const tree = join(dir, 'tree');
  log(`writing the host tree: ${options.files} small files, ${options.largeMb} MiB large`);
  await writeTree(tree);
  await zfs(['create', '-p', `${source}/h`]);
  await zfs(['create', '-p', `${target}/pull`]);
  await zfs(['create', '-p', `${target}/r`]);
  const ioLog = join(dir, 'host-io.log');
  const rsync = async (into: string) => {
    const args = [
      ...fullSystemFlags,
      '--delete',
      '--inplace',
      '--stats',
      `--rsync-path=TIDEMARK_IO_LOG=${ioLog} python3 ${wrapPath} rsync`,
      '-e',
      sshArgs(host).join(' '),
      `${host.address}:${tree}/`,
      `${into}/`,
    ];
    const started = performance.now();
    const result = await execa('rsync', args);
    const wire = Number(/Total bytes received: ([\d,]+)/.exec(result.stdout)?.[1]?.replace(/,/g, '') ?? NaN);
    const [rchar = NaN, readBytes = NaN] = readFileSync(ioLog, 'utf8')
      .trim()
      .split('\n')
      .at(-1)!
      .split(' ')
      .map(Number);
    return {
      wallSeconds: (performance.now() - started) / 1000,
      wireBytes: wire,
      hostReadBytes: rchar,
      hostBlockReadBytes: readBytes,
    };
  };
  const mountOf = async (dataset: string) => (await zfs(['get', '-H', '-o', 'value', 'mountpoint', dataset])).trim();
  log('first copies: the source pulls, the target receives in full, the second server pulls');
  await rsync(await mountOf(`${source}/h`));
  await zfs(['snapshot', `${source}/h@day0`]);
  await execa('zfs', ['send', `${source}/h@day0`], { buffer: false }).pipe(toReceiver[0]!, [
    ...toReceiver.slice(1),
    receiver.address,
    `zfs receive -u ${target}/r/h`,
  ]);
  await rsync(await mountOf(`${target}/pull`));
  const runs: Array<{
    day: number;
    pullAgain: Awaited<ReturnType<typeof rsync>>;
    replicate: { wallSeconds: number; wireBytes: number; hostReadBytes: number; hostLogins: number };
  }> = [];
  for (let day = 1; day <= options.reps; day++) {
    changeDay(tree, day);
    // The source's own daily pull, then its snapshot: the day's change exists on the source.
    await rsync(await mountOf(`${source}/h`));
    await zfs(['snapshot', `${source}/h@day${day}`]);
    const loginsBefore = await host.logins();
    const started = performance.now();
    const send = execa('zfs', ['send', '-i', `${source}/h@day${day - 1}`, `${source}/h@day${day}`], {
      buffer: false,
      encoding: 'buffer',
    });
    let streamBytes = 0;
    send.stdout!.on('data', (chunk: Buffer) => (streamBytes += chunk.length));
    await send.pipe(toReceiver[0]!, [...toReceiver.slice(1), receiver.address, `zfs receive -u ${target}/r/h`]);
    const replicate = {
      wallSeconds: (performance.now() - started) / 1000,
      wireBytes: streamBytes,
      hostReadBytes: 0,
      hostLogins: (await host.logins()) - loginsBefore,
    };
    const pullAgain = await rsync(await mountOf(`${target}/pull`));
    runs.push({ day, pullAgain, replicate });
    log(
      `day ${day}: pull again ${pullAgain.wallSeconds.toFixed(2)} s, ${pullAgain.hostReadBytes} bytes read on the host; replicate ${replicate.wallSeconds.toFixed(2)} s, ${replicate.wireBytes} bytes sent, ${replicate.hostLogins} host logins`,
    );
  }
  const summary = {
    pullAgain: {
      wallSeconds: median(runs.map((run) => run.pullAgain.wallSeconds)),
      wireBytes: median(runs.map((run) => run.pullAgain.wireBytes)),
      hostReadBytes: median(runs.map((run) => run.pullAgain.hostReadBytes)),
    },
    replicate: {
      wallSeconds: median(runs.map((run) => run.replicate.wallSeconds)),
      wireBytes: median(runs.map((run) => run.replicate.wireBytes)),
      hostReadBytes: 0,
      hostLogins: Math.max(...runs.map((run) => run.replicate.hostLogins)),
    },
  };
  console.log(
    "\n| second copy of a day's change | wall time (median) | bytes over the wire | bytes read on the host |",
  );
  console.log('|---|---|---|---|');
  console.log(
    `| rsync pull again | ${summary.pullAgain.wallSeconds.toFixed(2)} s | ${summary.pullAgain.wireBytes} | ${summary.pullAgain.hostReadBytes} |`,
  );
  console.log(
    `| zfs send -i to the target | ${summary.replicate.wallSeconds.toFixed(2)} s | ${summary.replicate.wireBytes} | 0 (${summary.replicate.hostLogins} logins) |`,
  );
  writeResultJson(options.out, 'replication-bench', new Date().toISOString(), {
    options,
    machine: { cpus: cpus().length, model: cpus()[0]?.model, kernel: release(), loadavg: loadavg() },
    runs,
    summary,
  });
}

try {
  await main();
} finally {
  await cleanups.run();
}
