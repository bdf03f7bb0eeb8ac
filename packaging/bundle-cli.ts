// The CLI as shipped: tsc's dist/client/cli.js and the ~230 module files a verb imports (ours, zod, yaml,
// commander, ...) joined into dist/client/cli.js and its chunks (dist/client/cli-chunk-*.js), one chunk per
// lazily loaded part, so `--version` still loads no schema and `hosts` no SDK. Why: on Node 20 (no compile
// cache) resolving and linking each ESM file costs more than running it; `config check` started in 0.25 s
// unbundled. The Temporal SDK stays outside (native code, a worker's own bundler), as do packages read as
// files at run time. tsc's entry is kept as dist/client/cli-modules.js, which imports the module files one
// by one: cli-start-modules.test reads from it which packages each verb loads.
// The chunks sit beside tsc's dist/client/*.js, so every `new URL('../…', import.meta.url)` in the code
// resolves to the same file from either.
//   node dist/packaging/bundle-cli.js
import { copyFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const clientDir = fileURLToPath(new URL('../client/', import.meta.url));
const entry = join(clientDir, 'cli.js');
const modulesEntry = join(clientDir, 'cli-modules.js');

// A second build bundles tsc's entry again, not the bundle of the first.
for (const name of readdirSync(clientDir)) if (name.startsWith('cli-chunk-')) rmSync(join(clientDir, name));
copyFileSync(entry, modulesEntry);

await build({
  entryPoints: { cli: modulesEntry },
  outdir: clientDir,
  chunkNames: 'cli-chunk-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  allowOverwrite: true,
  // Native code or a bundler of its own; the web console's browser assets are read as files (createRequire);
  // undici is imported on demand (NetBox only), and its CommonJS exports do not survive a bundled import().
  external: ['@temporalio/*', '@swc/*', 'playwright-core', 'uplot', 'undici'],
  // CommonJS packages inside an ESM bundle still call require() for node's own modules.
  banner: {
    js: "import { createRequire as tidemarkRequire } from 'node:module';\nconst require = tidemarkRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
