#!/usr/bin/env bash
# Every test (`make test`), in two pytest runs side by side. The tests that need no trained model
# start first, at a lower priority, while the model trains: training leaves one core idle for
# most of its 8 minutes. Then the tests marked `model` (tests/integration, real servers, and a
# few others; tests/conftest.py) run in the foreground; they mostly wait on those servers, and
# the lower priority of the others keeps what they time from being slowed. The others' output
# goes to logs/unit-tests.log: its last line is printed after the foreground run's output, or
# the whole log if any of them failed. Run one part as usual: .venv/bin/python -m pytest tests/...
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p logs
nice -n 10 .venv/bin/python -m pytest -m "not model" --ignore=tests/integration \
  >logs/unit-tests.log 2>&1 &
others=$!
if ! make --no-print-directory train; then
  kill "$others"
  exit 1
fi
.venv/bin/python -m pytest -m model
with_model=$?
wait "$others"
others_status=$?
echo "--- the tests that need no model (logs/unit-tests.log) ---"
if [ "$others_status" -eq 0 ]; then tail -n 1 logs/unit-tests.log; else cat logs/unit-tests.log; fi
[ "$with_model" -eq 0 ] && [ "$others_status" -eq 0 ]
