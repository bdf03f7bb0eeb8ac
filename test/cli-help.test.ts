// Every verb's --help says which options are required and ends with the verb's exit codes, generated from
// the one table (domain/errors.ts ExitCode, client/exit-codes.ts per verb). No services needed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Command } from 'commander';
import { ExitCode } from '../domain/errors.js';
import { exitCodeRows, verbExitCodes } from '../client/exit-codes.js';
import { buildProgram, leafCommands, verbName } from '../client/program.js';

function helpOf(command: Command): string {
  let text = '';
  command.configureOutput({ writeOut: (chunk) => (text += chunk), writeErr: (chunk) => (text += chunk) });
  command.outputHelp();
  return text;
}

const verbs = leafCommands(buildProgram());

test('every verb of the CLI has an exit-code list, and the list names no verb the CLI lacks', () => {
  const names = verbs.map(verbName);
  for (const name of names) assert.ok(name === 'status' || verbExitCodes[name], `no exit codes for "${name}"`);
  for (const name of Object.keys(verbExitCodes)) assert.ok(names.includes(name), `"${name}" is not a verb`);
  assert.ok(names.length >= 20, names.join(', '));
});

test("every verb's --help ends with its exit codes, each a code of the one table", () => {
  const codes = new Set<number>(Object.values(ExitCode));
  for (const command of verbs) {
    const verb = verbName(command);
    const help = helpOf(command);
    const block = help.slice(help.lastIndexOf('\nExit codes:\n'));
    assert.ok(help.lastIndexOf('\nExit codes:\n') > 0, `${verb}: no exit codes in\n${help}`);
    const rows = exitCodeRows(verb)!;
    assert.deepEqual(
      block
        .trim()
        .split('\n')
        .slice(1)
        .map((line) => Number(line.trim().split(/\s+/)[0])),
      rows.map(([code]) => code),
      verb,
    );
    if (verb !== 'status') for (const [code] of rows) assert.ok(codes.has(code as ExitCode), `${verb}: ${code}`);
  }
});

test('options commander requires are marked (required) in --help, and only those', () => {
  let required = 0;
  for (const command of verbs) {
    const help = helpOf(command);
    for (const option of command.options) {
      const line = help.split('\n').find((text) => text.trimStart().startsWith(option.flags));
      assert.ok(line, `${verbName(command)}: ${option.flags} not in help`);
      // The description may wrap: "(required)" follows it on the same or a later line before the next option.
      const after = help.slice(help.indexOf(line)).split(/\n {2}-/)[0]!;
      assert.equal(after.includes('(required)'), option.mandatory, `${verbName(command)} ${option.flags}`);
      if (option.mandatory) required += 1;
    }
  }
  assert.ok(required >= 15, `only ${required} required options found`);
  assert.match(
    helpOf(verbs.find((command) => verbName(command) === 'start-backup')!),
    /--host <name> +host from the inventory \(required\)/,
  );
});

test("sync's --help documents its exit 1, status's the Nagios codes and its --json shape", () => {
  const sync = helpOf(verbs.find((command) => verbName(command) === 'sync')!);
  assert.match(sync, /\n {2}1 {2}a schedule could not be changed, a large drop in hosts was refused without --force/);
  const status = helpOf(verbs.find((command) => verbName(command) === 'status')!);
  assert.match(status, /\n {2}3 {2}UNKNOWN/);
  assert.match(status.replace(/\s+/g, ' '), /an array with one object per \(host, server\) pair/);
});
