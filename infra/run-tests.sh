#!/usr/bin/env bash
# The test command of `make test` and CI: starts the real local stack, runs the whole pytest suite
# against it (the fixtures find the running stack by its settings), stops the stack again, and fails
# when pytest collected no test. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"

# A stack that was already running (a developer's) is used and left running; one started here is stopped.
# SENTIMON_TEST_STACK=0 skips the stack: the fixtures then start private servers for the session.
if [ "${SENTIMON_TEST_STACK:-1}" = "0" ]; then
  echo "run-tests: no stack (SENTIMON_TEST_STACK=0); the fixtures start private servers"
elif "$PYTHON" -m infra.stack status >/dev/null 2>&1; then
  echo "run-tests: using the running stack"
else
  "$PYTHON" -m infra.stack up
  trap '"$PYTHON" -m infra.stack down' EXIT
fi

set +e
"$PYTHON" -m pytest "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "run-tests: pytest collected no tests; that is a failure" >&2
  exit 1
fi
exit "$status"
