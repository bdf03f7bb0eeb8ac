// Reads rsync's --info=progress2 lines and --stats block; pure so that tests pin the formats.
import type { TransferProgress } from './backup.js';

const number = (text: string | undefined): number => Number((text ?? '0').replace(/,/g, ''));

/** One progress2 line, e.g. "  1,238,099,968  45%  118.09MB/s    0:00:10 (xfr#3, ir-chk=1009/2031)". */
export function parseProgressLine(line: string): TransferProgress | undefined {
  const match = /^\s*([\d,]+)\s+(\d+)%\s+(\S+)\s+\S+(?:\s+\(xfr#(\d+))?/.exec(line);
  if (!match) return undefined;
  return {
    bytes: number(match[1]),
    percent: Number(match[2]),
    rate: match[3] ?? '',
    filesTransferred: number(match[4]),
  };
}

/** The newest complete progress2 line in the tail of rsync's stdout (lines end in \r or \n). */
export function lastProgress(stdoutTail: string): TransferProgress | undefined {
  const lines = stdoutTail.split(/[\r\n]/);
  for (let index = lines.length - 2; index >= 0; index--) {
    const parsed = parseProgressLine(lines[index] ?? '');
    if (parsed) return parsed;
  }
  return undefined;
}

/** The copy's figures after new output: the newest progress2 line, with the file count never going back (a
 * line printed before rsync's first "(xfr#N" carries none). */
export function advanceProgress(previous: TransferProgress, stdoutTail: string): TransferProgress {
  const next = lastProgress(stdoutTail);
  if (!next) return previous;
  return { ...next, filesTransferred: Math.max(next.filesTransferred, previous.filesTransferred) };
}

export interface RsyncStats {
  filesTotal: number;
  filesTransferred: number;
  /** Size of every file in the source ("Total file size"). */
  bytesTotal: number;
  bytesTransferred: number;
  bytesReceived: number;
}

/** The figures of rsync's --stats block (missing lines read as 0). */
export function parseStats(output: string): RsyncStats {
  // rsync prints its own block last: an earlier look-alike (text a host got into the output) is ignored.
  const start = [...output.matchAll(/^Number of files: /gm)].at(-1)?.index ?? 0;
  const block = output.slice(start);
  const field = (label: string) => number(new RegExp(`^${label}: ([\\d,]+)`, 'm').exec(block)?.[1]);
  return {
    filesTotal: field('Number of files'),
    filesTransferred: field('Number of regular files transferred'),
    bytesTotal: field('Total file size'),
    bytesTransferred: field('Total transferred file size'),
    bytesReceived: field('Total bytes received'),
  };
}
