// Where the inventory is read from. A module of its own so that the CLI can name the file without loading
// the YAML parser and the schema (`--version` and `--help` load neither).

/** Where the inventory is looked for when `--config` is not given. */
export const defaultInventoryPath = '/etc/tidemark/tidemark.yaml';

/** `--config`, else `TIDEMARK_CONFIG`, else /etc/tidemark/tidemark.yaml. */
export function inventoryPath(explicit?: string): string {
  return explicit ?? process.env.TIDEMARK_CONFIG ?? defaultInventoryPath;
}
