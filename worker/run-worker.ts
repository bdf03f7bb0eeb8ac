// `tidemark worker --server NAME`: the process each backup server runs. It polls three queues:
// the shared control queue (workflow code), its own server queue (plan, dataset, snapshot) and its
// own transfer queue (rsync, as many at once as the server's concurrency).
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createActivities, createControlActivities } from '../activities/index.js';
import { controlTaskQueue, serverTaskQueue, transferTaskQueue } from '../domain/names.js';
import { deprecationWarnings } from '../inventory/deprecations.js';
import { keptInventory } from '../inventory/kept-inventory.js';
import { sendInventoryWarningsTo } from '../inventory/load.js';
import { resolveMonitoring, serverEntry as findServer } from '../inventory/resolve.js';
import { resolveTemporal } from '../temporal/settings.js';
import { describeConnection } from '../temporal/settings.js';
import { prepareMetrics } from './metrics.js';
import { workflowBundlePath, workflowsPath } from './bundle.js';
import { TidemarkError } from '../domain/errors.js';
import { noteSecretVariables } from '../subprocess/environment.js';
import { checkRsyncVersion } from './rsync-version.js';
import { beatWhileRunning } from './liveness.js';
import { logLevels, sdkLogger, tidemarkLog } from './log.js';
import { connectionOptions, temporalUnavailable } from '../temporal/connection.js';
import { missingSearchAttributes } from '../domain/search-attributes.js';

export interface WorkerOptions {
  server: string;
  inventoryPath: string;
  /** Prometheus endpoint, e.g. "127.0.0.1:9464"; overrides servers.<name>.metrics (default off). */
  metrics?: string;
}

/** Quick pool steps a server runs at once; they take seconds. */
const poolStepSlots = 16;

/** How often a transfer's heartbeat (its progress) is sent to Temporal, at most. */
const transferHeartbeatEvery = '1s';

/** The SDK's warnings about our deliberate split (workflows and activities on separate queues). */
const expectedSdkWarnings = /^No (activities|workflows) registered/;

/** Runs until SIGINT/SIGTERM, then finishes running activities' bookkeeping and exits. */
export async function runWorker(options: WorkerOptions): Promise<void> {
  const levels = logLevels(process.env.TIDEMARK_LOG_LEVEL);
  const log = tidemarkLog();
  // The worker's output is JSON lines (journal, log shippers): inventory warnings are among them.
  sendInventoryWarningsTo((warning) => log.warn({ event: 'inventory-warning' }, warning));
  // A host entry that does not validate is left out (its runs fail); the rest of the fleet is served.
  const kept = keptInventory(options.inventoryPath, options.server);
  const { inventory, warnings } = await kept.read();
  for (const warning of [...warnings, ...deprecationWarnings(inventory)])
    log.warn({ event: 'inventory-warning', inventory: options.inventoryPath }, warning);
  const serverEntry = findServer(inventory, options.server);
  if (!serverEntry) {
    throw new TidemarkError(
      'USAGE',
      `--server: "${options.server}" is not under "servers" in ${options.inventoryPath} (known: ${Object.keys(inventory.servers).join(', ')})`,
    );
  }
  await checkRsyncVersion();
  noteSecretVariables(inventory);
  const temporal = resolveTemporal(inventory);
  const monitoring = resolveMonitoring(inventory, options.server);
  const metrics = await prepareMetrics(options.metrics ?? monitoring.metrics);
  Runtime.install({
    logger: sdkLogger(levels.sdk, { drop: expectedSdkWarnings }),
    // The native core's messages are forwarded to the same logger instead of its own console format.
    telemetryOptions: {
      ...metrics.telemetryOptions,
      logging: { filter: { core: levels.sdk, other: 'ERROR' }, forward: {} },
    },
  });
  const connection = await NativeConnection.connect(connectionOptions(temporal)).catch((error: unknown) => {
    throw temporalUnavailable(temporal, error);
  });
  await refuseWithoutSearchAttributes(connection, temporal.namespace);
  const activities = createActivities({ inventoryPath: options.inventoryPath, server: options.server, log });
  const common = { connection, namespace: temporal.namespace, identity: `${options.server}@${hostname()}` };
  const workflowSource = existsSync(workflowBundlePath)
    ? { workflowBundle: { codePath: workflowBundlePath } }
    : { workflowsPath };

  const workers = await Promise.all([
    // The control queue also runs the scheduled inventory sync's activity: any server may do it.
    Worker.create({
      ...common,
      taskQueue: controlTaskQueue,
      ...workflowSource,
      activities: createControlActivities({ inventoryPath: options.inventoryPath }),
    }),
    Worker.create({
      ...common,
      taskQueue: serverTaskQueue(options.server),
      activities,
      maxConcurrentActivityTaskExecutions: poolStepSlots,
    }),
    Worker.create({
      ...common,
      taskQueue: transferTaskQueue(options.server),
      activities: {
        transferFiles: activities.transferFiles,
        restoreFiles: activities.restoreFiles,
        sendReplica: activities.sendReplica,
      },
      maxConcurrentActivityTaskExecutions: serverEntry.concurrency ?? 2,
      // The copy's figures reach Temporal every second, not every 0.8 × heartbeatTimeout (48 s by default), so
      // that `--wait` shows live progress from Temporal alone: one small call a second per running copy.
      maxHeartbeatThrottleInterval: transferHeartbeatEvery,
    }),
  ]);
  const metricsServer = await metrics.start({
    server: options.server,
    stateFile: monitoring.stateFile,
    serverDataset: serverEntry.dataset,
    // Only the inventory's hosts (a broken entry still counts): a host that left it leaves the page. NetBox's
    // hosts are not in the file: with NetBox every host of the state file stays.
    inventoryHosts: async () => {
      const current = (await kept.read()).inventory;
      if (current.netbox) return undefined;
      return new Set([...Object.keys(current.hosts), ...Object.keys(current.invalidHosts ?? {})]);
    },
  });
  if (metricsServer)
    log.info(
      { server: options.server, metrics: metricsServer.url },
      `tidemark worker for ${options.server}: metrics on ${metricsServer.url}`,
    );
  const queues = [controlTaskQueue, serverTaskQueue(options.server), transferTaskQueue(options.server)];
  log.info(
    { server: options.server, queues, temporal: describeConnection(temporal) },
    `tidemark worker for ${options.server}: polling ${queues.join(', ')} on ${describeConnection(temporal)}`,
  );
  const stopBeat = beatWhileRunning(
    connection,
    temporal.namespace,
    options.server,
    `${common.identity} pid ${process.pid}`,
    (message) => log.warn({ server: options.server }, message),
  );
  try {
    await Promise.all(workers.map((worker) => worker.run()));
  } finally {
    await stopBeat();
    await metricsServer?.close();
    await connection.close();
  }
}

/** Workflows upsert Tidemark's search attributes: without them every run would stall on its first
 * workflow task, which is worse than not starting. A namespace that does not let us list them (a
 * restricted API key) is let through with a warning. */
async function refuseWithoutSearchAttributes(connection: NativeConnection, namespace: string): Promise<void> {
  let missing: string[];
  try {
    missing = missingSearchAttributes(
      (await connection.operatorService.listSearchAttributes({ namespace })).customAttributes ?? {},
    );
  } catch (error) {
    tidemarkLog().warn(
      { namespace, error: (error as Error).message },
      `tidemark worker: could not list the search attributes of namespace "${namespace}" (${(error as Error).message}); make sure "tidemark temporal setup" was run`,
    );
    return;
  }
  if (missing.length > 0) {
    await connection.close();
    throw new TidemarkError(
      'USAGE',
      `namespace "${namespace}" lacks Tidemark's search attributes ${missing.join(', ')}: run "tidemark temporal setup" once, then start the worker`,
    );
  }
}

/** The worker's restore steps run in the caller's process, for `tidemark restore --offline`. */
export { OfflineRestoreFailure, restoreOffline } from '../activities/index.js';
