// Man pages from the CLI itself: each verb's commander help (`tidemark VERB --help`), wrapped in roff,
// one page per verb (tidemark-config-check.1 for `config check`) and tidemark.1 for the whole command.
// Nothing is written by hand, so the pages cannot drift from the code they describe.
//   node dist/packaging/man-pages.js CLI.js OUT_DIR
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

interface Page {
  /** The words after "tidemark", e.g. ["config", "check"]. */
  verb: string[];
  help: string;
}

function helpOf(cli: string, verb: string[]): string {
  // Not a TTY: commander wraps at 80 columns, the same on every build.
  return execFileSync(process.execPath, [cli, ...verb, '--help'], { encoding: 'utf8' });
}

/** The subcommand names listed under "Commands:" (commander's own `help` left out). */
function subcommands(help: string): string[] {
  const section = help.split(/^Commands:\n/m)[1] ?? '';
  return [...section.matchAll(/^ {2}([a-z][\w-]*)/gm)].map((match) => match[1]!).filter((name) => name !== 'help');
}

/** Every verb, depth first: `config` and then `config check`. */
function collectPages(cli: string, verb: string[] = []): Page[] {
  const help = helpOf(cli, verb);
  return [{ verb, help }, ...subcommands(help).flatMap((name) => collectPages(cli, [...verb, name]))];
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
const version = execFileSync(process.execPath, [cli, '--version'], { encoding: 'utf8' }).trim();
const pages = collectPages(cli);
mkdirSync(out, { recursive: true });
for (const page of pages) writeFileSync(join(out, `${pageName(page.verb)}.1`), renderPage(page, version, pages));
console.log(`${pages.length} man pages in ${out}`);
