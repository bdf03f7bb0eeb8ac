// Text a host controls (hook output, veto file names, rsync and ssh messages, mount points, exclude lines)
// reaches terminals, mail and webhooks through the run's summary and failures. Control characters are
// shown, never obeyed: an escape sequence cannot recolour, hide or rewrite what an operator reads.

/** C0 and C1 controls, DEL, line/paragraph separators, bidi overrides and the BOM: they end or reorder
 * lines (an rsync filter rule ends at "\r"; a terminal obeys escape sequences). */
// eslint-disable-next-line no-control-regex
export const controlCharacter = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/u;

const everyControl = new RegExp(controlCharacter.source, 'gu');

/** `text` with each control character but newline and tab written as `\u{1b}`. */
export function printable(text: string): string {
  return text.replace(everyControl, (found) =>
    found === '\n' || found === '\t' ? found : `\\u{${found.codePointAt(0)!.toString(16)}}`,
  );
}
