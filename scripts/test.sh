#!/usr/bin/env bash
# The whole test suite on a fresh machine: install what is missing, lint, then `npm test`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npm run lint
# Only the tests need a real NetBox (PostgreSQL, Redis, CPython 3.13, NetBox in a venv); its migrations
# run here, once per NetBox version, into a template each test run copies.
bash scripts/setup-netbox.sh
node dist/devenv/prepare-netbox.js
npm test
