// The cadence verbs on the `tidemark` command: sync, schedules, pause, resume, trigger.
import type { Command } from 'commander';

/** The schedule verbs' module, loaded only when one of them runs (it brings the Temporal client). */
const verbs = () => import('./schedules.js');

/** The inventory, parsed only when a verb runs (the parser and the schema are not needed for --help). */
const loadInventory = async (path: string) => (await import('../inventory/load.js')).loadInventory(path);

export function registerScheduleCommands(program: Command, configPath: () => string): void {
  program
    .command('sync')
    .description('create, update and delete Tidemark schedules to match the inventory (and NetBox); prints the plan')
    .option('--dry-run', 'print the plan without changing anything', false)
    .option('--force', 'apply even when the host count drops suspiciously (to zero, or by more than half)', false)
    .option('--json', 'print the report as JSON', false)
    .action(async (options: { dryRun: boolean; force: boolean; json: boolean }) => {
      process.exitCode = await (await verbs()).syncCommand(await loadInventory(configPath()), options);
    });

  program
    .command('schedules')
    .description('list Tidemark backup and restore-drill schedules: kind, spec, next run, last result, paused')
    .option('--host <name>', 'only this host')
    .option('--server <name>', 'only this backup server')
    .option('--json', 'print JSON', false)
    .action(async (options: { host?: string; server?: string; json: boolean }) => {
      process.exitCode = await (await verbs()).schedulesCommand(await loadInventory(configPath()), options);
    });

  for (const verb of ['pause', 'resume'] as const) {
    program
      .command(verb)
      .description(
        verb === 'pause'
          ? "pause a host's schedules (running backups continue; sync keeps the pause)"
          : "resume a host's paused schedules",
      )
      .requiredOption('--host <name>', 'host')
      .option('--server <name>', 'backup server (default: every server with a schedule for the host)')
      .option('--reason <text>', 'recorded in the schedule note')
      .option('--json', 'machine-readable output', false)
      .action(async (options: { host: string; server?: string; reason?: string; json: boolean }) => {
        process.exitCode = await (
          await verbs()
        ).pauseCommand(await loadInventory(configPath()), {
          ...options,
          resume: verb === 'resume',
        });
      });
  }

  program
    .command('trigger')
    .description("run a host's scheduled backup now (skipped, exit 3, when one is already running)")
    .requiredOption('--host <name>', 'host')
    .option('--server <name>', 'backup server (default: every server with a schedule for the host)')
    .option('--json', 'machine-readable output', false)
    .action(async (options: { host: string; server?: string; json: boolean }) => {
      process.exitCode = await (await verbs()).triggerCommand(await loadInventory(configPath()), options);
    });
}
