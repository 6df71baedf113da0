#!/usr/bin/env bash
# `npm test`: type check and lint, then the Vitest suites (unit, integration, Docker) while the
# production app builds beside them for the browser tests (the build is mostly CPU, the suites
# mostly wait on containers and the CLI), then the two-node Swarm suite, then the Playwright suite
# against that build, then the Compose deployment test.
# (Running Playwright beside the Vitest suites too was tried: on two cores both slowed to a crawl
# and start-up hooks timed out, so the browser tests wait for the Vitest suites.)
set -uo pipefail
cd "$(dirname "$0")/.."

npm run typecheck || exit $?
npm run lint || exit $?

mkdir -p test-results
build_log=test-results/build.log
echo "==> building the app for the browser tests beside the Vitest suites (log: $build_log)"
(
  started=$(date +%s)
  npm run build || exit $?
  echo "==> the app was built in $(($(date +%s) - started)) s"
) >"$build_log" 2>&1 &
build_pid=$!

unit_rc=0
npm run test:unit || unit_rc=$?

build_rc=0
wait "$build_pid" || build_rc=$?
if [[ $build_rc -ne 0 ]]; then
  echo "==> the production build failed (exit $build_rc); the end of $build_log:"
  tail -n 60 "$build_log"
  exit "$build_rc"
fi
tail -n 1 "$build_log"
[[ $unit_rc -eq 0 ]] || exit "$unit_rc"

# The Swarm runtime on a two-node Docker Swarm (tests/swarm): two more dockerds, the agent image
# copied into each, a real agent on node 2. About 4.5-6 min on two cores, mostly copying the image
# and waiting on Swarm; alone, after the suites and the build, before the browser tests.
npm run test:swarm || exit $?

npm run test:e2e || exit $?

# The Compose deployment end to end (tests/compose): builds the app image from the Dockerfile on
# local base images, then docker-compose up, upgrade from the previous schema, agent, chat, down.
# Last and alone: its image build is a second production build and would starve the suites above.
npm run test:compose
