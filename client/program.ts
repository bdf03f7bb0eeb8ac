// The `tidemark` command's definition: every verb, its options and its help (with the verb's exit codes).
// client/cli.ts runs it; the docs generator (devenv/docs-reference.ts) reads it to write docs/reference/cli.md.
import { readFileSync } from 'node:fs';
import { Command, Help, type Option } from 'commander';
import type { StatusOptions } from './status.js';
import { TidemarkError } from '../domain/errors.js';
import type { WebOptions } from '../web/serve.js';
import { inventoryPath } from '../inventory/inventory-path.js';
import { exitCodesHelp } from './exit-codes.js';
import { registerScheduleCommands } from './schedule-commands.js';

/** The installed package's own version: dist/client/program.js sits two folders below package.json. */
const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

/** Help that says which options must be given: commander checks them but does not say so in --help. */
function optionDescription(this: Help, option: Option): string {
  const text = Help.prototype.optionDescription.call(this, option);
  return option.mandatory ? `${text} (required)` : text;
}

/** "config check", "start-backup": a command's name below the program. */
export function verbName(command: Command): string {
  const names: string[] = [];
  for (let at: Command | null = command; at?.parent; at = at.parent) names.unshift(at.name());
  return names.join(' ');
}

/** The commands that run something (not groups such as "config"), in definition order. */
export function leafCommands(command: Command): Command[] {
  return command.commands.flatMap((child) => (child.commands.length > 0 ? leafCommands(child) : [child]));
}

export function buildProgram(): Command {
  const program = new Command('tidemark')
    .description('Backups of Linux hosts: rsync over SSH into ZFS, snapshots and retention, run by Temporal')
    .version(version, '-V, --version', 'print the version of Tidemark')
    .option('-c, --config <file>', 'inventory file (default: $TIDEMARK_CONFIG, else /etc/tidemark/tidemark.yaml)')
    .exitOverride()
    // Inherited by every command defined below (commander copies help settings to subcommands).
    .configureHelp({ optionDescription })
    .configureOutput({ outputError: (text, write) => write(text) });

  const configPath = () => inventoryPath(program.opts<{ config?: string }>().config);

  /** The inventory for a verb: a host entry that does not validate is named on stderr and fails only its own
   * host's verbs (config check and the worker still judge the whole file). */
  async function loadInventory(path: string) {
    // The YAML parser and the schema load only for a verb that reads the inventory (not --version, --help).
    const { invalidHostWarnings, loadInventoryIsolatingHosts } = await import('../inventory/load.js');
    const { deprecationWarnings } = await import('../inventory/deprecations.js');
    const inventory = await loadInventoryIsolatingHosts(path);
    for (const line of invalidHostWarnings(inventory)) console.error(`WARNING: ${line}`);
    for (const line of deprecationWarnings(inventory)) console.error(`tidemark: WARNING: ${line}`);
    return inventory;
  }

  /** The inventory for a verb about `hosts`: each resolves as the worker resolves it, from the file and then
   * NetBox (inventory/host-lookup.ts); NetBox's WARNINGs (the kept answer's age) go to stderr. */
  async function loadInventoryWithHosts(path: string, hosts: Array<string | undefined>) {
    const inventory = await loadInventory(path);
    const { inventoryWithHosts } = await import('../inventory/host-lookup.js');
    const named = hosts.filter((host): host is string => host !== undefined);
    const resolved = await inventoryWithHosts(inventory, named);
    for (const line of resolved.warnings) console.error(`tidemark: WARNING: ${line}`);
    return resolved.inventory;
  }

  program
    .command('start-backup')
    .description('back up a host now, on each of its servers (or just --server)')
    .requiredOption('--host <name>', 'host from the inventory')
    .option('--server <name>', 'backup server (default: every server of the host)')
    .option('--wait', 'follow progress and exit 0 on success, 5 on WARNING, 1 on failure', false)
    .option('--ok-on-warning', 'with --wait: exit 0 when a run ends WARNING (the copy exists but needs a look)', false)
    .option('--keep <reason>', 'hold the new snapshot (retention leaves it) until "tidemark release"')
    .option(
      '--allow-shrink',
      'data was removed on purpose: let this run delete past the shrink guard and become the new baseline',
      false,
    )
    .option(
      '--json',
      'print the runs as JSON on stdout (with --wait, each with its summary); messages go to stderr',
      false,
    )
    .action(
      async (options: {
        host: string;
        server?: string;
        wait: boolean;
        okOnWarning: boolean;
        keep?: string;
        allowShrink: boolean;
        json: boolean;
      }) => {
        // Each command loads its own modules when it runs: a CLI process starts in a fraction of the time, which
        // matters when scripts start many `start-backup --wait` at once beside the backups they watch.
        const { startBackup } = await import('./start-backup.js');
        process.exitCode = await startBackup(await loadInventoryWithHosts(configPath(), [options.host]), options);
      },
    );

  program
    .command('cancel-backup')
    .description('cancel running backups of a host (rsync is stopped, no snapshot is taken)')
    .requiredOption('--host <name>', 'host from the inventory')
    .option('--server <name>', 'backup server (default: every server of the host)')
    .option('--json', 'machine-readable output', false)
    .action(async (options: { host: string; server?: string; json: boolean }) => {
      const { cancelBackup } = await import('./cancel-backup.js');
      process.exitCode = await cancelBackup(await loadInventoryWithHosts(configPath(), [options.host]), options);
    });

  // Retention verbs: they read this backup server's pool directly.
  program
    .command('snapshots')
    .description("list a host's snapshots on this backup server: time, size, kind and the rule keeping each")
    .requiredOption('--host <name>', 'host from the inventory')
    .option('--server <name>', "backup server (default: the host's one whose dataset is on this machine)")
    .option('--json', 'machine-readable output', false)
    .action(async (options: { host: string; server?: string; json: boolean }) => {
      const { showSnapshots } = await import('./snapshots.js');
      process.exitCode = await showSnapshots(await loadInventoryWithHosts(configPath(), [options.host]), options);
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
      process.exitCode = await pruneNow(await loadInventoryWithHosts(configPath(), [options.host]), options);
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
      process.exitCode = await releaseKept(await loadInventoryWithHosts(configPath(), [options.host]), options);
    });

  program
    .command('adopt-dataset')
    .description(
      'take over an existing dataset for a host (switch-over from SOWN or PlanB); backups refuse datasets Tidemark did not create',
    )
    .requiredOption('--host <name>', 'host from the inventory')
    .option('--server <name>', "backup server (default: the host's one whose dataset is on this machine)")
    .option(
      '--from <dataset>',
      "move this dataset (e.g. PlanB's tank/GROUP-NAME) to the host's place first, snapshots included",
    )
    .option('--planb', "PlanB's layout: files under data/ (moved up to the root), its snapshots read from data/", false)
    .action(async (options: { host: string; server?: string; from?: string; planb: boolean }) => {
      const { adoptDataset } = await import('./adopt-dataset.js');
      process.exitCode = await adoptDataset(await loadInventoryWithHosts(configPath(), [options.host]), options);
    });

  program
    .command('rename-host')
    .description(
      "rename a host's backups on this backup server: the dataset with its snapshots and holds; the next sync moves the schedule",
    )
    .argument('<old>', 'the name the backups are under now')
    .argument('<new>', 'the new name (rename the host in the inventory or NetBox too)')
    .option('--server <name>', 'backup server (default: the one whose dataset for OLD is on this machine)')
    .action(async (oldName: string, newName: string, options: { server?: string }) => {
      const { renameHost } = await import('./rename-host.js');
      process.exitCode = await renameHost(await loadInventoryWithHosts(configPath(), [oldName, newName]), {
        ...options,
        old: oldName,
        new: newName,
      });
    });

  program
    .command('decommission')
    .description(
      'retire a host on this backup server: final held snapshot, schedule deleted, dataset marked (status lists it); --destroy removes it after 30 days',
    )
    .requiredOption(
      '--host <name>',
      'host whose dataset is on this machine (it may be gone from the inventory already)',
    )
    .option('--server <name>', 'backup server (default: the one whose dataset holds the host here)')
    .option(
      '--destroy',
      'destroy the decommissioned dataset with every snapshot (only 30 days after decommissioning)',
      false,
    )
    .option('--yes-destroy-all-snapshots', 'with --destroy: confirm that every snapshot of the host goes', false)
    .action(async (options: { host: string; server?: string; destroy: boolean; yesDestroyAllSnapshots: boolean }) => {
      const { decommission } = await import('./decommission.js');
      process.exitCode = await decommission(await loadInventory(configPath()), options);
    });

  const collect = (value: string, previous: string[]) => [...previous, value];

  // Getting data back: restore runs on the owning server's worker; files and history read this server's pool.
  program
    .command('restore')
    .description("restore a host's files from a snapshot into a directory on the backup server or onto a host over ssh")
    .requiredOption('--host <name>', 'host whose backup is read')
    .option('--server <name>', "backup server (default: the host's only one)")
    .option('--snapshot <name>', 'snapshot name, or "latest": the newest complete one (default)')
    .option('--at <iso-time>', 'the newest complete snapshot taken at or before this time')
    .option(
      '--path <path>',
      'restore only this path, as it was on the host (repeatable; default everything)',
      collect,
      [],
    )
    .option('--to <dir>', 'write into this directory on the backup server (files keep their absolute paths under it)')
    .option('--to-host <name>', 'push over ssh to this inventory host')
    .option(
      '--target-dir <dir>',
      "with --to-host: directory on that host (default a fresh <host's restoreRoot, /var/lib/tidemark/restore>/<snapshot>-<nonce>/)",
    )
    .option('--yes-overwrite-live-system', 'with --target-dir / (or --to /): really write over the live system', false)
    .option('--dry-run', 'list what would change (rsync --itemize-changes), write nothing', false)
    .option(
      '--special-files',
      'with --to: also recreate device nodes, FIFOs, sockets and setuid/setgid bits (left out by default)',
      false,
    )
    .option('--bwlimit <rate>', 'rsync --bwlimit, KiB/s (e.g. 500, 10M)')
    .option('--wait', 'follow progress and exit 0 when restored, 1 on failure, 2 when the request cannot work', false)
    .option('--json', 'with --wait: print the summary as JSON', false)
    .option(
      '--offline',
      'run the restore in this process on the backup server that holds the pool: no Temporal, no worker (waits)',
      false,
    )
    .action(async (options) => {
      const { restore } = await import('./restore.js');
      process.exitCode = await restore(
        await loadInventoryWithHosts(configPath(), [options.host, options.toHost]),
        options,
        configPath(),
      );
    });

  program
    .command('files')
    .description('list a directory of a snapshot on this backup server: name, type, size, mtime, mode')
    .requiredOption('--host <name>', 'host from the inventory')
    .option('--server <name>', "backup server (default: the host's one whose dataset is on this machine)")
    .option('--snapshot <name>', 'snapshot name, or "latest": the newest complete one (default)')
    .option('--json', 'machine-readable output', false)
    .argument('[path]', 'directory (or file) as it was on the host', '/')
    .action(async (path: string, options: { host: string; server?: string; snapshot?: string; json: boolean }) => {
      const { listFiles } = await import('./browse.js');
      process.exitCode = await listFiles(await loadInventoryWithHosts(configPath(), [options.host]), {
        ...options,
        path,
      });
    });

  program
    .command('history')
    .description('list the snapshots on this backup server that hold PATH, marking where its size or mtime changed')
    .requiredOption('--host <name>', 'host from the inventory')
    .option('--server <name>', "backup server (default: the host's one whose dataset is on this machine)")
    .option('--json', 'machine-readable output', false)
    .argument('<path>', 'file or directory as it was on the host')
    .action(async (path: string, options: { host: string; server?: string; json: boolean }) => {
      const { fileHistory } = await import('./browse.js');
      process.exitCode = await fileHistory(await loadInventoryWithHosts(configPath(), [options.host]), {
        ...options,
        path,
      });
    });

  program
    .command('find')
    .description("list the entries whose name matches PATTERN in each of the host's snapshots on this backup server")
    .requiredOption('--host <name>', 'host from the inventory')
    .option('--server <name>', "backup server (default: the host's one whose dataset is on this machine)")
    .option('--ignore-case', 'match regardless of case', false)
    .option('--json', 'machine-readable output', false)
    .argument('<pattern>', 'glob on names ("*.conf"); with a "/", on the whole path ("/etc/*/nginx.conf")')
    .action(async (pattern: string, options: { host: string; server?: string; ignoreCase: boolean; json: boolean }) => {
      const { findFiles } = await import('./find.js');
      process.exitCode = await findFiles(await loadInventoryWithHosts(configPath(), [options.host]), {
        ...options,
        pattern,
      });
    });

  program
    .command('verify')
    .description(
      "restore drill: compare SHA-256 of random files in the newest complete snapshot with the host's unchanged files",
    )
    .requiredOption('--host <name>', 'host from the inventory')
    .option('--server <name>', "backup server (default: the host's one whose dataset is on this machine)")
    .option('--sample <count>', 'how many random regular files to draw (default 200)')
    .option('--json', 'machine-readable output', false)
    .action(async (options: { host: string; server?: string; sample?: string; json: boolean }) => {
      const { verifyHost } = await import('./verify.js');
      process.exitCode = await verifyHost(await loadInventoryWithHosts(configPath(), [options.host]), options);
    });

  program
    .command('worker')
    .description("run this backup server's worker (workflows, pool steps and transfers)")
    .requiredOption('--server <name>', 'this backup server, as named under "servers"')
    .option('--metrics <host:port>', 'serve Prometheus metrics here (default: servers.<name>.metrics, else off)')
    .action(async (options: { server: string; metrics?: string }) => {
      const { runWorker } = await import('../worker/run-worker.js');
      await runWorker({
        server: options.server,
        inventoryPath: configPath(),
        ...(options.metrics ? { metrics: options.metrics } : {}),
      });
    });

  program
    .command('hosts')
    .description('list the hosts and their backup servers (--zabbix: as Zabbix low-level discovery JSON)')
    .option('--server <name>', 'only this backup server')
    .option('--zabbix', 'print {"data":[{"{#HOST}":…,"{#SERVER}":…}]}', false)
    .option('--json', 'print [{"host":…,"server":…}]', false)
    .action(async (options: { server?: string; zabbix: boolean; json: boolean }) => {
      const { hostsCommand } = await import('./hosts.js');
      console.log(await hostsCommand(await loadInventory(configPath()), options));
    });

  program
    .command('host-setup')
    .description(
      "print what to install on a host so the backup server's key runs only Tidemark's commands (ssh filter, authorized_keys line, sudoers)",
    )
    .requiredOption('--host <name>', 'host from the inventory')
    .option(
      '--filter-path <path>',
      'where the filter goes on the host (default /usr/local/lib/tidemark/tidemark-ssh-filter)',
    )
    .option(
      '--filter-config <path>',
      "where the filter's settings go on the host (default /etc/tidemark-ssh-filter.conf)",
    )
    .action(async (options: { host: string; filterPath?: string; filterConfig?: string }) => {
      const { describeHostSetup } = await import('./host-setup.js');
      const paths = {
        ...(options.filterPath ? { filterPath: options.filterPath } : {}),
        ...(options.filterConfig ? { configPath: options.filterConfig } : {}),
      };
      console.log(
        await describeHostSetup(await loadInventoryWithHosts(configPath(), [options.host]), {
          host: options.host,
          ...paths,
        }),
      );
    });

  program
    .command('host-key')
    .description(
      "print the known_hosts lines for a machine under the name ssh checks its key by (the host's name, or the server's for --receive), scanned and checked against its address entry if there is one; append them to ssh.knownHostsFile",
    )
    .option('--host <name>', 'host from the inventory')
    .option('--receive <server>', "a replication target: the server's receive sshd (servers.<name>.receive)")
    .action(async (options: { host?: string; receive?: string }) => {
      const { hostKeyLines } = await import('./host-key.js');
      const inventory = options.host
        ? await loadInventoryWithHosts(configPath(), [options.host])
        : await loadInventory(configPath());
      const report = await hostKeyLines(inventory, options);
      if (report.stdout) console.log(report.stdout);
      console.error(report.stderr);
      process.exitCode = report.exitCode;
    });

  program
    .command('config')
    .description('inventory tools')
    .command('check')
    .description('validate the inventory and print what was found (exit 2 when invalid)')
    .option('--json', 'print the resolved inventory as JSON (notify targets by id, no secrets)', false)
    .option(
      '--explain <host>',
      'print each effective setting of this host and where it came from (host, NetBox, group, defaults, built-in default)',
    )
    .action(async (options: { json: boolean; explain?: string }) => {
      const path = configPath();
      const { describeInventory, inventoryReport, withNetboxHosts } = await import('./config-check.js');
      const { loadInventory: loadWholeInventory } = await import('../inventory/load.js');
      const inventory = await loadWholeInventory(path, { warn: false });
      if (options.explain !== undefined) {
        const { describeExplanation, explainHost } = await import('../inventory/explain.js');
        // A NetBox host is explained as a run sees it: the YAML file plus NetBox's objects.
        const { loadHostSources } = await import('../inventory/sources.js');
        const explained = explainHost((await loadHostSources(inventory)).inventory, options.explain);
        console.log(
          options.json
            ? JSON.stringify(explained, null, 2)
            : describeExplanation(options.explain.toLowerCase(), explained),
        );
        return;
      }
      const netbox = await withNetboxHosts(inventory);
      const now = new Date();
      console.log(
        options.json
          ? JSON.stringify(inventoryReport(inventory, path, now, netbox), null, 2)
          : describeInventory(inventory, path, now, netbox),
      );
    });

  program
    .command('report')
    .description(
      "a month's runs, failures, last success, sizes (used/referenced, from this machine's pool), snapshot count and growth per host and group",
    )
    .option('--month <YYYY-MM>', 'the month (UTC); default the current one')
    .option('--group <name>', 'only the hosts of this group')
    .option('--server <name>', 'only this backup server')
    .option('--json', 'machine-readable output: {hosts: [...], groups: [...]}', false)
    .option('--csv', 'one CSV line per (host, server), sizes in bytes', false)
    .option('--output <file>', 'write the report to this file instead (replaced whole: a daily billing export)')
    .action(
      async (options: {
        month?: string;
        group?: string;
        server?: string;
        json: boolean;
        csv: boolean;
        output?: string;
      }) => {
        const { showReport } = await import('./report.js');
        process.exitCode = await showReport(await loadInventory(configPath()), options);
      },
    );

  program
    .command('status')
    .description(
      'last run and last success of every (host, server) pair, from Temporal; exit 0 OK, 1 WARNING, 2 CRITICAL (Nagios); on a backup server also its orphan and decommissioned host datasets (never in the exit code)',
    )
    .option('--host <name>', 'only this host')
    .option('--server <name>', 'only this backup server')
    .option('--group <name>', 'only the hosts of this group (`groups:` in the inventory)')
    .option('--stale <duration>', 'WARNING when the last SUCCESS is older than this, e.g. 36h')
    .option(
      '--json',
      'machine-readable output: an array with one object per (host, server) pair, then one per orphan or decommissioned dataset (lastStatus ORPHAN or DECOMMISSIONED)',
      false,
    )
    .option('--nagios', 'one Nagios/Icinga plugin line with performance data (exit 3 UNKNOWN on errors)', false)
    .action(async (options: StatusOptions) => {
      const { fleetStatus } = await import('./status.js');
      try {
        process.exitCode = await fleetStatus(await loadInventory(configPath()), options);
      } catch (error) {
        const { NetboxError } = await import('../inventory/netbox-error.js');
        // Without NetBox's hosts status cannot tell: UNKNOWN (3) in Nagios terms, one line, no stack.
        if (error instanceof NetboxError && !options.nagios) {
          console.error(`tidemark: UNKNOWN: ${error.message}`);
          process.exitCode = 3;
          return;
        }
        if (!options.nagios) throw error;
        // A monitoring plugin that cannot look reports UNKNOWN, never a stack or a usage exit code.
        console.log(
          `TIDEMARK UNKNOWN: ${(error instanceof Error ? error.message : String(error)).replaceAll('|', '/').split('\n')[0]}`,
        );
        process.exitCode = 3;
      }
    });

  program
    .command('web')
    .description(
      'serve the web console: the fleet page with every (host, server) pair as "status" judges it, from Temporal',
    )
    .option(
      '--listen <addr:port>',
      'address to listen on; other than loopback only with TLS and authentication',
      '127.0.0.1:8380',
    )
    .option('--tls-cert <file>', 'PEM certificate: serve HTTPS')
    .option('--tls-key <file>', 'PEM private key of --tls-cert')
    .option('--password-file <file>', 'operators and scrypt password hashes (docs/how-to/web-console.md)')
    .option(
      '--trusted-user-header <name>',
      'the authenticated user as a reverse proxy in front sets it, e.g. X-Remote-User',
    )
    .option('--audit-log <file>', 'where console actions are recorded (default /var/lib/tidemark/web-audit.log)')
    .option('--refresh <seconds>', 'how often the fleet page reloads itself', '30')
    .action(async (options: Omit<WebOptions, 'refresh'> & { refresh: string }) => {
      const refresh = Number(options.refresh);
      if (!Number.isInteger(refresh) || refresh < 0)
        throw new TidemarkError('USAGE', `--refresh: "${options.refresh}" is not a whole number of seconds (0: never)`);
      const { startConsole } = await import('../web/serve.js');
      const path = configPath();
      await loadInventory(path);
      const { loadInventoryIsolatingHosts } = await import('../inventory/load.js');
      const running = await startConsole(async () => await loadInventoryIsolatingHosts(path), {
        ...options,
        refresh,
      });
      console.log(`tidemark web: serving ${running.url}`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await running.close();
    });

  program
    .command('web-password')
    .description('print a --password-file line for an operator of the web console (password read from stdin)')
    .argument('<name>', 'operator name')
    .action(async (name: string) => {
      const { hashLine } = await import('../web/operators.js');
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      console.log(
        await hashLine(
          name,
          Buffer.concat(chunks)
            .toString('utf8')
            .replace(/\r?\n$/, ''),
        ),
      );
    });

  program
    .command('web-audit')
    .description("print the web console's recorded operator actions (who, what, when, outcome)")
    .option('--audit-log <file>', "the console's --audit-log (default /var/lib/tidemark/web-audit.log)")
    .option('--json', 'one JSON object per action', false)
    .action(async (options: { auditLog?: string; json: boolean }) => {
      const { auditTable, defaultAuditLog, readAudit } = await import('../web/audit.js');
      const entries = await readAudit(options.auditLog ?? defaultAuditLog);
      console.log(options.json ? JSON.stringify(entries, null, 2) : auditTable(entries));
    });

  program
    .command('temporal')
    .description('Temporal namespace tools')
    .command('setup')
    .description(
      'register the search attributes TidemarkHost, TidemarkServer, TidemarkStatus, TidemarkBytes (safe to repeat)',
    )
    .option('--json', 'machine-readable output', false)
    .action(async (options: { json: boolean }) => {
      const { temporalSetup } = await import('./temporal-setup.js');
      process.exitCode = await temporalSetup(await loadInventory(configPath()), options);
    });

  registerScheduleCommands(program, configPath);
  for (const command of leafCommands(program)) command.addHelpText('after', exitCodesHelp(verbName(command)));
  return program;
}
