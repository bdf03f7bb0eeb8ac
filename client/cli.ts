#!/usr/bin/env node
// The `tidemark` command: parses arguments (the verbs are defined in client/program.ts) and maps errors to
// exit codes (domain/errors.ts).
import { CommanderError } from 'commander';
import { ExitCode, TidemarkError } from '../domain/errors.js';
import { NetboxError } from '../inventory/netbox-error.js';
import { closeOpenConnections } from '../temporal/open-connections.js';
import { buildProgram } from './program.js';

const program = buildProgram();

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
  } else if (error instanceof TidemarkError || error instanceof NetboxError) {
    // NetBox's own messages name its URL, the HTTP status or network error and what to check: one line.
    console.error(`tidemark: ${error.message}`);
    process.exitCode = error instanceof TidemarkError ? error.exitCode : ExitCode.backupFailed;
  } else {
    console.error(error);
    process.exitCode = ExitCode.backupFailed;
  }
} finally {
  await closeOpenConnections();
}
