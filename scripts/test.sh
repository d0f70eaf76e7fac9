#!/usr/bin/env bash
# Every test (`make test`), in two pytest runs side by side. The integration tests (real servers,
# tests/integration) mostly wait on those servers, so the others run meanwhile, at a lower
# priority, so that what the integration tests time is not slowed by them. Together they take
# about the time of the integration tests alone. The others' output goes to
# logs/unit-tests.log: its last line is printed after the integration tests' output, or the
# whole log if any of them failed. Run one part as usual: .venv/bin/python -m pytest tests/...
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p logs
nice -n 10 .venv/bin/python -m pytest --ignore=tests/integration >logs/unit-tests.log 2>&1 &
others=$!
.venv/bin/python -m pytest tests/integration
integration=$?
wait "$others"
others_status=$?
echo "--- the other tests (tests/, outside tests/integration; logs/unit-tests.log) ---"
if [ "$others_status" -eq 0 ]; then tail -n 1 logs/unit-tests.log; else cat logs/unit-tests.log; fi
[ "$integration" -eq 0 ] && [ "$others_status" -eq 0 ]
