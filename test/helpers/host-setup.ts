// Installs what `tidemark host-setup` prints on a rig's loopback host: the filter's settings (section 2) at
// `configPath` and the restricted authorized_keys line (section 3) as the host's only key line.
import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packagedFilterPath } from '../../client/host-setup.js';
import type { Rig } from './rig.js';

/** Runs host-setup for the rig's host and installs its output; returns the printed text's lines. */
export async function installHostSetup(rig: Rig, configPath: string): Promise<string[]> {
  const generated = await rig.cli([
    'host-setup',
    '--host',
    rig.hostName,
    '--filter-path',
    packagedFilterPath,
    '--filter-config',
    configPath,
  ]);
  assert.equal(generated.exitCode, 0, generated.stderr);
  const lines = generated.stdout.split('\n');
  const config = lines.slice(
    lines.findIndex((line) => line.startsWith('## 2.')) + 1,
    lines.findIndex((line) => line.startsWith('## 3.')),
  );
  writeFileSync(configPath, config.join('\n'));
  // The rig's sshd reads this one file for every user: only the restricted line remains, root's is gone.
  writeFileSync(join(rig.dir, 'ssh', 'authorized_keys'), `${lines.find((line) => line.startsWith('restrict,'))}\n`);
  chmodSync(join(rig.dir, 'ssh', 'authorized_keys'), 0o644);
  return lines;
}
