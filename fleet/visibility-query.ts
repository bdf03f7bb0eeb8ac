// Values in Temporal visibility queries (fleet/status.ts, fleet/replica-status.ts, client/report.ts).

/** A visibility query string literal (inventory names have no quotes, but never trust that here). */
export function quote(value: string): string {
  return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}
