#!/usr/bin/env bash
# The whole test suite on a fresh machine: install what is missing, then the lint and `npm test` side by
# side (each takes minutes on 2 cores; `npm test` also prepares a real NetBox in the background, see
# docs/development/test-tiers.md). Fails if either fails; the lint's output follows the tests'.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --tests
lint_log=$(mktemp /tmp/tidemark-lint-XXXXXX)
npm run lint >"$lint_log" 2>&1 &
lint=$!
test_log=$(mktemp /tmp/tidemark-test-XXXXXX)
status=0
npm test 2>&1 | tee "$test_log" || status=$?
if wait "$lint"; then
  echo "lint: clean"
else
  cat "$lint_log"
  echo "lint: FAILED"
  status=1
fi
# The tests' closing "N passed, N failed" line stays the last line of the run.
grep -E '^[0-9]+ passed, [0-9]+ failed' "$test_log" | tail -1 || true
rm -f "$lint_log" "$test_log"
exit "$status"
