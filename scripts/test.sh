#!/usr/bin/env bash
# The whole test suite on a fresh machine: install what is missing, lint (a minute; fails before the
# slow tests start), then `npm test` (which also installs a real NetBox in the background, see README).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --tests
npm run lint
npm test
