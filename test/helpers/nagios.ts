// Reads a Nagios plugin line back, failing the test when it breaks the plugin guidelines.
import assert from 'node:assert/strict';

/** The plugin guidelines' output: "SERVICE STATUS: text | 'label'=value[UOM];[warn];[crit];[min];[max] ...". */
export function parseNagiosLine(line: string): {
  service: string;
  status: string;
  text: string;
  perfdata: Map<string, { value: number; uom: string; fields: string[] }>;
} {
  const match = /^(\S+) (OK|WARNING|CRITICAL|UNKNOWN): ([^|\n]*?) \| ([^|\n]+)$/.exec(line);
  assert.ok(match, `not a Nagios plugin line: ${line}`);
  const perfdata = new Map<string, { value: number; uom: string; fields: string[] }>();
  for (const item of match[4]!.trim().split(/\s+/)) {
    // "U": the value could not be determined (plugin guidelines); read back as NaN.
    // A label in single quotes may hold any character but "=" and "'" (here: no spaces either).
    const parsed = /^([A-Za-z_][\w.-]*|'[^'=]+')=(-?\d+(?:\.\d+)?|U)(s|%|B|KB|MB|GB|TB|c)?((?:;-?[\d.]*){0,4})$/.exec(
      item,
    );
    assert.ok(parsed, `perfdata item "${item}" does not follow label=value[UOM];warn;crit;min;max`);
    perfdata.set(parsed[1]!, {
      value: parsed[2] === 'U' ? Number.NaN : Number(parsed[2]),
      uom: parsed[3] ?? '',
      fields: parsed[4]!.split(';').slice(1),
    });
  }
  return { service: match[1]!, status: match[2]!, text: match[3]!, perfdata };
}
