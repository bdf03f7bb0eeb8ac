// The Temporal Web UI, seen in a real (headless) browser: a run of a backup is listed under the
// TidemarkHost search attribute with its status. The suite's shared server is headless, so this test
// starts a small dev server of its own with the UI, and leaves a screenshot for the README.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { freePort } from '../worker/free-port.js';
import { startDevServer, type DevServer } from '../devenv/temporal-dev.js';
import { backupWorkflowId } from '../domain/names.js';
import { createRig, type Rig } from './helpers/rig.js';

const chromiumPath = '/usr/bin/chromium';
const screenshotPath = fileURLToPath(new URL('../../docs/temporal-ui.png', import.meta.url));

let server: DevServer;
let rig: Rig;
let browser: Browser | undefined;
before(async () => {
  assert.ok(
    existsSync(chromiumPath),
    `${chromiumPath} is missing: run scripts/setup.sh --tests (it installs chromium)`,
  );
  server = await startDevServer({ port: await freePort(), uiPort: await freePort() });
  rig = await createRig('ui', { temporal: { address: server.address } });
  mkdirSync(rig.source, { recursive: true });
  writeFileSync(join(rig.source, 'file'), 'x');
  await rig.startWorker();
});
after(async () => {
  await browser?.close();
  await rig?.close();
  await server?.stop();
});

test('the Temporal UI lists the backup under TidemarkHost with its status', async () => {
  const backup = await rig.cli(['start-backup', '--host', rig.hostName, '--wait']);
  assert.equal(backup.exitCode, 0, backup.stderr);
  const workflowId = backupWorkflowId(rig.hostName, rig.server);
  const runId = new RegExp(`started ${workflowId} run (\\S+)`).exec(backup.stdout)?.[1];
  assert.ok(runId, `the CLI named the run: ${backup.stdout}`);

  browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
  const page = await browser.newPage({ viewport: { width: 1400, height: 700 } });
  const query = encodeURIComponent(`TidemarkHost="${rig.hostName}"`);
  await page.goto(`${server.uiUrl}/namespaces/default/workflows?query=${query}`);
  const row = page.locator('tr', { hasText: runId });
  await row.waitFor({ timeout: 60_000 });
  const text = await row.innerText();
  assert.ok(text.includes(workflowId), text);
  assert.match(text, /\bCompleted\b/i);
  await page.screenshot({ path: screenshotPath });
});
