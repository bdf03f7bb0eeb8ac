#!/usr/bin/env bash
# One backup end to end on embedded defaults: Temporal dev server (UI on :8233), a demo host on
# 127.0.0.2 served by a real sshd, a file-backed ZFS pool under .cache/demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
node dist/devenv/demo.js "$@"
