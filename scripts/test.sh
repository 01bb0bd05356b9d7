#!/usr/bin/env bash
# The whole test suite: static checks, the native agent and frame filter tests, then unit,
# integration and guest tiers. The guest tier boots real VMs (TCG where KVM cannot run them) and needs debian:12.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { echo "[test] phase=$1" >&2; }

step lint && npx eslint .
step format && npx prettier --check . >/dev/null
step typecheck && npx tsc -p tsconfig.json --noEmit
step build && npm run --silent build
step agent-tests && make -s -C guest test
step netstack-tests && make -s -C netstack test
step environment && node dist/cli.js env pull debian:12 >/dev/null && node dist/cli.js env pull debian:12-base >/dev/null
# Each benchmark section once, no thresholds: a broken benchmark fails the run.
step bench && npm run --silent bench -- --quick
# Every recipe of docs/use-cases.md through the MCP server against real guests.
step smoke && npm run --silent smoke
step vitest
report=$(mktemp)
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" || status=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
' "$report"
rm -f "$report"
exit "$status"
