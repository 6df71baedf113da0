#!/usr/bin/env bash
# `npm test`: type check and lint, then two pipelines side by side (two cores; the Vitest suites
# mostly wait on containers and the CLI): the Vitest suites (unit, integration, Docker) on this
# terminal, and the production build followed by the Playwright suite against it, logged to
# test-results/e2e.log and printed when it ends. Fails when either fails.
set -uo pipefail
cd "$(dirname "$0")/.."

npm run typecheck || exit $?
npm run lint || exit $?

mkdir -p test-results
e2e_log=test-results/e2e.log
echo "==> browser tests: building the app, then Playwright, beside the Vitest suites (log: $e2e_log)"
(
  started=$(date +%s)
  npm run build || exit $?
  echo "==> the app was built in $(($(date +%s) - started)) s"
  npm run test:e2e
) >"$e2e_log" 2>&1 &
e2e_pid=$!

unit_rc=0
npm run test:unit || unit_rc=$?
echo "==> Vitest suites done (exit $unit_rc); waiting for the browser tests (log: $e2e_log)"

e2e_rc=0
wait "$e2e_pid" || e2e_rc=$?
echo "==> browser tests (exit $e2e_rc):"
cat "$e2e_log"

[[ $unit_rc -eq 0 ]] || exit "$unit_rc"
exit "$e2e_rc"
