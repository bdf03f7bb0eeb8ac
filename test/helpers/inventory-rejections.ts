// A table of malformed inventories, each of which must be refused with a field-naming message.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseInventory } from '../../inventory/load.js';

/** One test per case: parseInventory throws CONFIG_INVALID with a message matching `expected`. */
export function testRejections(cases: Array<[text: string, expected: RegExp]>, titleLength = 60): void {
  for (const [text, expected] of cases) {
    test(`rejects ${expected.source.slice(1, titleLength)}`, () => {
      assert.throws(
        () => parseInventory(text),
        (error: Error & { code?: string }) => {
          assert.equal(error.code, 'CONFIG_INVALID');
          assert.match(error.message, expected);
          return true;
        },
      );
    });
  }
}
