#!/usr/bin/env node
// The `tidemark` command: parses arguments, loads the inventory, maps errors to exit codes.
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { ExitCode, TidemarkError } from '../domain/errors.js';
import { inventoryPath, loadInventory } from '../inventory/load.js';
import { describeInventory } from './config-check.js';
import { cancelBackup } from './cancel-backup.js';
import { registerScheduleCommands } from './schedule-commands.js';
import { hostsCommand } from './hosts.js';
import { startBackup } from './start-backup.js';

/** The installed package's own version: dist/client/cli.js sits two folders below package.json. */
const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command('tidemark')
  .description('Backups of Linux hosts: rsync over SSH into ZFS, snapshots and retention, run by Temporal')
  .version(version, '-V, --version', 'print the version of Tidemark')
  .option('-c, --config <file>', 'inventory file (default: $TIDEMARK_CONFIG, else /etc/tidemark/tidemark.yaml)')
  .exitOverride()
  .configureOutput({ outputError: (text, write) => write(text) });

const configPath = () => inventoryPath(program.opts<{ config?: string }>().config);

program
  .command('start-backup')
  .description('back up a host now, on each of its servers (or just --server)')
  .requiredOption('--host <name>', 'host from the inventory')
  .option('--server <name>', 'backup server (default: every server of the host)')
  .option('--wait', 'follow progress and exit 0 on success, 1 on failure', false)
  .option('--keep <reason>', 'hold the new snapshot (retention leaves it) until "tidemark release"')
  .option('--allow-shrink', 'data was removed on purpose: let this run delete past the shrink guard and become the new baseline', false)
  .action(async (options: { host: string; server?: string; wait: boolean; keep?: string; allowShrink: boolean }) => {
    process.exitCode = await startBackup(await loadInventory(configPath()), options);
  });

program
  .command('cancel-backup')
  .description('cancel running backups of a host (rsync is stopped, no snapshot is taken)')
  .requiredOption('--host <name>', 'host from the inventory')
  .option('--server <name>', 'backup server (default: every server of the host)')
  .action(async (options: { host: string; server?: string }) => {
    process.exitCode = await cancelBackup(await loadInventory(configPath()), options);
  });

// Retention verbs (issue 4): they read this backup server's pool directly.
program
  .command('snapshots')
  .description("list a host's snapshots on this backup server: time, size, kind and the rule keeping each")
  .requiredOption('--host <name>', 'host from the inventory')
  .option('--server <name>', "backup server (default: the host's one whose dataset is on this machine)")
  .option('--json', 'machine-readable output', false)
  .action(async (options: { host: string; server?: string; json: boolean }) => {
    const { showSnapshots } = await import('./snapshots.js');
    process.exitCode = await showSnapshots(await loadInventory(configPath()), options);
  });

program
  .command('prune')
  .description("apply the host's retention policy now (held, foreign and the newest snapshots always stay)")
  .requiredOption('--host <name>', 'host from the inventory')
  .option('--server <name>', "backup server (default: the host's one whose dataset is on this machine)")
  .option('--dry-run', 'show what would be destroyed, destroy nothing', false)
  .option('--json', 'machine-readable output', false)
  .action(async (options: { host: string; server?: string; dryRun: boolean; json: boolean }) => {
    const { pruneNow } = await import('./prune.js');
    process.exitCode = await pruneNow(await loadInventory(configPath()), options);
  });

program
  .command('release')
  .description('release a snapshot kept with "start-backup --keep"; retention may prune it afterwards')
  .requiredOption('--host <name>', 'host from the inventory')
  .requiredOption('--snapshot <name>', 'snapshot name, e.g. tidemark-20261123T091900Z')
  .option('--server <name>', "backup server (default: the host's one whose dataset is on this machine)")
  .option('--json', 'machine-readable output', false)
  .action(async (options: { host: string; snapshot: string; server?: string; json: boolean }) => {
    const { releaseKept } = await import('./hold.js');
    process.exitCode = await releaseKept(await loadInventory(configPath()), options);
  });

program
  .command('adopt-dataset')
  .description("take over an existing dataset for a host (switch-over from SOWN or PlanB); backups refuse datasets Tidemark did not create")
  .requiredOption('--host <name>', 'host from the inventory')
  .option('--server <name>', "backup server (default: the host's one whose dataset is on this machine)")
  .action(async (options: { host: string; server?: string }) => {
    const { adoptDataset } = await import('./adopt-dataset.js');
    process.exitCode = await adoptDataset(await loadInventory(configPath()), options);
  });

program
  .command('worker')
  .description("run this backup server's worker (workflows, pool steps and transfers)")
  .requiredOption('--server <name>', 'this backup server, as named under "servers"')
  .option('--metrics <host:port>', 'serve Prometheus metrics here (default: servers.<name>.metrics, else off)')
  .action(async (options: { server: string; metrics?: string }) => {
    const { runWorker } = await import('../worker/run-worker.js');
    await runWorker({ server: options.server, inventoryPath: configPath(), ...(options.metrics ? { metrics: options.metrics } : {}) });
  });

program
  .command('hosts')
  .description('list the hosts and their backup servers (--zabbix: as Zabbix low-level discovery JSON)')
  .option('--server <name>', 'only this backup server')
  .option('--zabbix', 'print {"data":[{"{#HOST}":…,"{#SERVER}":…}]}', false)
  .action(async (options: { server?: string; zabbix: boolean }) => {
    console.log(await hostsCommand(await loadInventory(configPath()), options));
  });

program
  .command('host-setup')
  .description("print what to install on a host so the backup server's key runs only Tidemark's commands (ssh filter, authorized_keys line, sudoers)")
  .requiredOption('--host <name>', 'host from the inventory')
  .option('--filter-path <path>', 'where the filter goes on the host (default /usr/local/lib/tidemark/tidemark-ssh-filter)')
  .option('--filter-config <path>', "where the filter's settings go on the host (default /etc/tidemark-ssh-filter.conf)")
  .action(async (options: { host: string; filterPath?: string; filterConfig?: string }) => {
    const { describeHostSetup } = await import('./host-setup.js');
    const paths = { ...(options.filterPath ? { filterPath: options.filterPath } : {}), ...(options.filterConfig ? { configPath: options.filterConfig } : {}) };
    console.log(await describeHostSetup(await loadInventory(configPath()), { host: options.host, ...paths }));
  });

program
  .command('config')
  .description('inventory tools')
  .command('check')
  .description('validate the inventory and print what was found (exit 2 when invalid)')
  .action(async () => {
    const path = configPath();
    console.log(describeInventory(await loadInventory(path), path));
  });

registerScheduleCommands(program, configPath);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
  } else if (error instanceof TidemarkError) {
    console.error(`tidemark: ${error.message}`);
    process.exitCode = error.exitCode;
  } else {
    console.error(error);
    process.exitCode = ExitCode.backupFailed;
  }
}
