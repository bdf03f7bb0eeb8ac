// Man pages from the CLI itself: each verb's commander help (`tidemark VERB --help`), wrapped in roff,
// one page per verb (tidemark-config-check.1 for `config check`) and tidemark.1 for the whole command.
// Nothing is written by hand, so the pages cannot drift from the code they describe.
//   node dist/packaging/man-pages.js CLI.js OUT_DIR
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Command } from 'commander';

interface Page {
  /** The words after "tidemark", e.g. ["config", "check"]. */
  verb: string[];
  help: string;
}

/** What `tidemark VERB --help` prints, asked in this process (one CLI start per verb took ~0.5 s each). */
function helpOf(command: Command): string {
  let text = '';
  // As when not on a TTY: no colours, commander's 80 columns, the same on every build.
  command.configureOutput({
    writeOut: (chunk) => (text += chunk),
    getOutHelpWidth: () => 80,
    getOutHasColors: () => false,
  });
  command.outputHelp();
  return text;
}

/** The subcommand names listed under "Commands:" (commander's own `help` left out). */
function subcommands(help: string): string[] {
  const section = help.split(/^Commands:\n/m)[1] ?? '';
  return [...section.matchAll(/^ {2}([a-z][\w-]*)/gm)].map((match) => match[1]!).filter((name) => name !== 'help');
}

/** Every verb, depth first: `config` and then `config check`. */
function collectPages(command: Command, verb: string[] = []): Page[] {
  const help = helpOf(command);
  return [
    { verb, help },
    ...subcommands(help).flatMap((name) => {
      const sub = command.commands.find((candidate) => candidate.name() === name);
      if (!sub) throw new Error(`tidemark ${[...verb, name].join(' ')}: listed in the help, not found`);
      return collectPages(sub, [...verb, name]);
    }),
  ];
}

/** Text as roff that prints as it is: backslashes escaped, no line taken for a request. */
function roffText(text: string): string {
  return text
    .replaceAll('\\', '\\e')
    .replaceAll('-', '\\-')
    .split('\n')
    .map((line) => (/^[.']/.test(line) ? `\\&${line}` : line))
    .join('\n');
}

const pageName = (verb: string[]) => ['tidemark', ...verb].join('-');

/** The first paragraph after the usage line: commander prints the description there. */
function summary(help: string): string {
  const paragraph = help.split('\n\n')[1] ?? '';
  return paragraph.startsWith('Options:') ? '' : paragraph.replace(/\s+/g, ' ').trim();
}

function renderPage(page: Page, version: string, all: Page[]): string {
  const name = pageName(page.verb);
  const seeAlso =
    page.verb.length === 0
      ? all.filter((other) => other.verb.length > 0).map((other) => `${pageName(other.verb)}(1)`)
      : ['tidemark(1)'];
  return [
    `.TH ${name.toUpperCase()} 1 "" "tidemark ${version}" "Tidemark"`,
    '.SH NAME',
    `${roffText(name)} \\- ${roffText(summary(page.help) || `tidemark ${page.verb.join(' ')}`)}`,
    '.SH SYNOPSIS',
    '.nf',
    roffText(page.help.split('\n')[0]!.replace(/^Usage: /, '')),
    '.fi',
    '.SH DESCRIPTION',
    '.nf',
    roffText(page.help.split('\n').slice(1).join('\n').trim()),
    '.fi',
    '.SH SEE ALSO',
    roffText(seeAlso.join(', ')),
    '',
  ].join('\n');
}

const [cli, out] = process.argv.slice(2);
if (!cli || !out) throw new Error('usage: node man-pages.js CLI.js OUT_DIR');
// The packaged CLI's own program (dist/client/program.js beside cli.js), so the pages describe what ships.
const { buildProgram } = (await import(pathToFileURL(join(dirname(cli), 'program.js')).href)) as {
  buildProgram: () => Command;
};
const program = buildProgram();
const version = program.version() ?? 'unknown';
const pages = collectPages(program);
mkdirSync(out, { recursive: true });
for (const page of pages) writeFileSync(join(out, `${pageName(page.verb)}.1`), renderPage(page, version, pages));
console.log(`${pages.length} man pages in ${out}`);
