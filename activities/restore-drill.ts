// A scheduled restore drill (workflows/restore-drill.ts): `tidemark verify` of one (host, server), run as the
// packaged CLI in a child process with an argument array, its JSON report read back, and the result written to
// the state file (metrics and the notify step read it). A child process rather than shared code: verify's
// code lives in client/ (it reads the pool, the host over ssh and the inventory), which activities may not
// import, and running the CLI keeps one verify with one set of checks and exit codes.
import { Context } from '@temporalio/activity';
import { execa } from 'execa';
import { fileURLToPath } from 'node:url';
import type { DrillReport } from '../domain/drill.js';
import { activityFailure } from '../domain/failures.js';
import { keptInventory } from '../inventory/kept-inventory.js';
import { resolveMonitoring, resolveVerify } from '../inventory/resolve.js';
import { recordDrillInFile, type DrillRecord } from '../notify/state.js';

/** The CLI of this installation (dist/client/cli.js beside dist/activities/). */
const cliPath = fileURLToPath(new URL('../client/cli.js', import.meta.url));
/** A drill of 100,000 files over a slow link still ends; one that hangs is killed. */
const drillTimeoutMs = 6 * 3_600_000;

/** The workflow's result: the outcome (domain/drill.ts), with the state file's warning and, after the notify step,
 * the targets' results. */
export type DrillResult = DrillReport;

interface VerifyJson {
  dataset: string;
  snapshot: string;
  sampled: number;
  verified: number;
  mismatched: number;
  skipped: number;
  restoreCheck: { differing: unknown[]; notTried?: string };
}

/** Runs the drill of `host` from this worker's `server` with the inventory's sample size. */
export async function runRestoreDrill(inventoryPath: string, server: string, host: string): Promise<DrillResult> {
  const inventory = (await keptInventory(inventoryPath).read()).inventory;
  const verify = resolveVerify(inventory, host, server);
  if (!verify)
    throw activityFailure(`hosts.${host}: no verify.every for server ${server}: no drill is due`, 'DrillConfig');
  const child = await execa(
    process.execPath,
    [
      cliPath,
      '--config',
      inventoryPath,
      'verify',
      '--host',
      host,
      '--server',
      server,
      '--sample',
      String(verify.sample),
      '--json',
    ],
    { reject: false, timeout: drillTimeoutMs, encoding: 'utf8', cancelSignal: Context.current().cancellationSignal },
  );
  const result = judged(host, server, child.exitCode, child.stdout, child.stderr, child.timedOut);
  const record: DrillRecord = {
    host,
    server,
    runId: Context.current().info.workflowExecution?.runId ?? '',
    status: result.status,
    finishedAt: new Date().toISOString(),
    verified: result.verified,
    mismatched: result.mismatched,
    message: result.message,
  };
  const { stateFile } = resolveMonitoring(inventory, server);
  const written = await recordDrillInFile(stateFile, record).catch(
    (error: Error): Awaited<ReturnType<typeof recordDrillInFile>> => ({
      warning: `state file ${stateFile}: ${error.message}`,
    }),
  );
  return {
    ...result,
    finishedAt: record.finishedAt,
    ...(written.previousStatus ? { previousStatus: written.previousStatus } : {}),
    ...(written.warning ? { warning: written.warning } : {}),
  };
}

/** The drill's verdict from verify's exit code and JSON report: a mismatch or a differing restore FAILED,
 * nothing compared WARNING, verify failing to run FAILED with its error's last line. */
export function judged(
  host: string,
  server: string,
  exitCode: number | undefined,
  stdout: string,
  stderr: string,
  timedOut = false,
): DrillResult {
  const base = { host, server, verified: 0, mismatched: 0 };
  let report: VerifyJson | undefined;
  try {
    report = JSON.parse(stdout) as VerifyJson;
  } catch {
    report = undefined;
  }
  if (!report || typeof report.verified !== 'number') {
    const why = timedOut
      ? `timed out after ${drillTimeoutMs / 3_600_000} h`
      : (stderr.trim().split('\n').at(-1) ?? '') || `verify exited ${exitCode}`;
    return { ...base, status: 'FAILED', message: `restore drill failed: ${why}` };
  }
  const counts = { verified: report.verified, mismatched: report.mismatched };
  const from = `${report.dataset}@${report.snapshot}`;
  const differing = report.restoreCheck.differing.length;
  if (report.mismatched > 0 || differing > 0 || exitCode !== 0)
    return {
      ...base,
      ...counts,
      status: 'FAILED',
      message: `restore drill of ${from} FAILED: ${report.mismatched} file(s) differ from the host, ${differing} restored wrongly`,
    };
  if (report.sampled > 0 && report.verified === 0)
    return {
      ...base,
      ...counts,
      status: 'WARNING',
      message: `restore drill of ${from}: no file could be compared (${report.skipped} skipped); nothing was proved`,
    };
  const notTried = report.restoreCheck.notTried ? `; scratch restore not tried: ${report.restoreCheck.notTried}` : '';
  return {
    ...base,
    ...counts,
    status: notTried ? 'WARNING' : 'SUCCESS',
    message: `restore drill of ${from}: ${report.verified} of ${report.sampled} files verified${notTried}`,
  };
}
