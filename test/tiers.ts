// Which tier each test file belongs to (docs/development/test-tiers.md). The runner (test/run-suite.ts)
// reads this, never the file names, to decide what a file needs and when it runs. A file not named here
// is an integration test: it gets every service, which is always safe, only slower to start.

export type Tier = 'unit' | 'replay' | 'workflow' | 'integration' | 'system';

/** In the order `npm test` runs them: the cheapest, fastest-failing first. */
export const tiers: readonly Tier[] = ['unit', 'replay', 'workflow', 'integration', 'system'];

export interface TestFileSpec {
  tier: Tier;
  /** Starts only once the runner's background preparation of a real NetBox has ended. */
  needsNetbox?: true;
  /** Runs by itself once the concurrent files have ended (before the afterAll ones): it changes state that
   * every other file shares, such as the default control queue's sync schedule. */
  alone?: true;
  /** Starts only after every other file of the run has ended (it checks what they left behind). */
  afterAll?: true;
}

/** Keyed by the file's name without `.test.ts`. */
export const testFiles: Readonly<Record<string, TestFileSpec>> = {
  // Pure code: no Temporal, no ZFS, no sshd, no other process of ours.
  'adopted-names': { tier: 'unit' },
  'blackout-retry-domain': { tier: 'unit' },
  'child-env': { tier: 'unit' },
  'cli-help': { tier: 'unit' },
  'fleet-verdict': { tier: 'unit' },
  'fleet-cache': { tier: 'unit' },
  'guards-domain': { tier: 'unit' },
  groups: { tier: 'unit' },
  'lease-domain': { tier: 'unit' },
  'leftovers-no-pool': { tier: 'unit' },
  'netbox-hostile': { tier: 'unit' },
  'netbox-outage': { tier: 'unit' },
  'notify-state': { tier: 'unit' },
  patches: { tier: 'unit' },
  'replica-verdict': { tier: 'unit' },
  'replication-domain': { tier: 'unit' },
  'restore-domain': { tier: 'unit' },
  'restore-target': { tier: 'unit' },
  'stale-file-pool': { tier: 'unit' },
  'restore-drill-settings': { tier: 'unit' },
  'retention-inventory': { tier: 'unit' },
  'retention-outcome': { tier: 'unit' },
  'retention-table': { tier: 'unit' },
  retention: { tier: 'unit' },
  'rsync-domain': { tier: 'unit' },
  'schedule-spec': { tier: 'unit' },
  'snapshots-table': { tier: 'unit' },
  'ssh-control-dir': { tier: 'unit' },
  'known-hosts-alias': { tier: 'unit' },
  'host-path-alphabet': { tier: 'unit' },
  'mount-selection': { tier: 'unit' },
  'child-runner': { tier: 'unit' },
  'temporal-settings': { tier: 'unit' },
  tiers: { tier: 'unit' },
  'verify-remote': { tier: 'unit' },
  'throttled-query': { tier: 'unit' },
  // Recorded histories against today's workflow code (no server: the SDK's replayer).
  replay: { tier: 'replay' },
  // Real parts (the default for a file not named here), named for the worst-day work: live progress of --wait.
  'live-progress': { tier: 'integration' },
  // CLI processes (no service used): which packages --version, --help and an inventory verb load.
  'cli-start-modules': { tier: 'integration' },
  // A guard holding run after run: FAILED to monitoring, CRITICAL in status.
  'guard-streak': { tier: 'integration' },
  // Two real workers of one server: its concurrency holds across both.
  'server-concurrency': { tier: 'integration' },
  // Scheduled restore drills: sync makes the schedule, a triggered drill's result shows in status.
  'restore-drill': { tier: 'integration' },
  // Workflow code alone: the SDK's test environment on the suite's dev server, activities stubbed.
  'restore-host-workflow': { tier: 'workflow' },
  // The product end to end beside a real outside service, a real browser, or the whole suite's results.
  'netbox-real': { tier: 'system', needsNetbox: true },
  'temporal-ui': { tier: 'system' },
  // A real Zabbix 6.0 server, database and API (devenv/zabbix.ts) beside one backup.
  'zabbix-real': { tier: 'system' },
  'web-console': { tier: 'system' },
  // The .deb built, linted and installed into a fresh Debian root (minutes; no service of the suite).
  'package-deb': { tier: 'system' },
  // Runs the tutorial's `tidemark sync` on the default control queue, whose sync schedule the schedules test
  // expects to be absent.
  tutorial: { tier: 'system', alone: true },
  'search-attributes': { tier: 'system', afterAll: true },
};

/** Files that take minutes: started first when the runner has no times of an earlier run (a fresh clone),
 * so the last minutes are not spent waiting for one long file. */
export const startFirst: readonly string[] = [
  // Longest first, as measured in a fresh-clone run (2026-12-07): web-console sleeps a minute in its set-up,
  // so it starts at once rather than ending the run.
  'web-console',
  'retention.integration',
  'restore',
  'data-safety',
  'package-deb',
  'blackout-retry',
  'package',
  'replication',
  'interruptions',
  'hooks',
  'bench-smoke',
  'fleet-status',
  'worker-liveness',
  'live-progress',
  'zabbix-real',
  'notify-webhook',
  'data-safety-writers',
  'host-least-privilege',
  'failures',
  'notify-mail-smarthost',
  'decommission',
];

export function specOf(name: string): TestFileSpec {
  return testFiles[name] ?? { tier: 'integration' };
}
