// A Node test reporter for the suite runner (test/run-suite.ts): per test file, its wall-clock span (first
// event to last, so concurrent files each get their own) and its passed/failed/skipped top-level tests.
// Each event is appended synchronously as one JSON line to $TIDEMARK_TEST_TIMES: --test-force-exit ends the
// runner before an asynchronous reporter's last output would be written.
import { appendFileSync } from 'node:fs';

interface TestEvent {
  type: string;
  data: { file?: string; nesting?: number; skip?: unknown; todo?: unknown };
}

export interface FileEvent {
  file: string;
  atMs: number;
  result?: 'passed' | 'failed' | 'skipped';
}

export default async function* fileTimesReporter(source: AsyncIterable<TestEvent>): AsyncGenerator<string> {
  const output = process.env.TIDEMARK_TEST_TIMES;
  for await (const event of source) {
    const file = event.data.file;
    if (!output || !file) continue;
    const line: FileEvent = { file, atMs: Date.now() };
    // Top-level tests only: a failed subtest also fails its parent, which is what is counted.
    if (event.data.nesting === 0 && event.type === 'test:pass')
      line.result = event.data.skip || event.data.todo ? 'skipped' : 'passed';
    if (event.data.nesting === 0 && event.type === 'test:fail') line.result = 'failed';
    appendFileSync(output, `${JSON.stringify(line)}\n`);
  }
  yield '';
}
