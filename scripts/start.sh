#!/usr/bin/env bash
# Start the action server in the background, then the assistant in the foreground:
#   scripts/start.sh shell    chat in the terminal (one conversation per OS user)
#   scripts/start.sh server   Rasa server with the channels in credentials.yml (port 5005):
#                             REST, the website widget (URL printed once it is up), Slack
# The action server stops when the foreground process ends. An action server already
# answering on the port (e.g. from `make actions`) is reused.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-shell}
bin=.venv/bin
rasa=("$bin/python" -m scripts.quiet_rasa)  # `rasa`, minus start-up DeprecationWarnings
model=models/coach.tar.gz
actions_port=5055  # endpoints.yml points Rasa here
mkdir -p logs var
export PYTHONPATH=$PWD  # the Rasa server loads addons/tracker_store.py
# TensorFlow's C++ start-up notices (CUDA, CPU features) are not for learners; the Makefile sets
# this too, and this script is also run directly.
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-3}

healthy() { curl -fsS "http://localhost:$actions_port/health" >/dev/null 2>&1; }

if ! healthy; then
  "${rasa[@]}" run actions --port "$actions_port" >logs/actions.log 2>&1 &
  actions_pid=$!
  trap 'kill "$actions_pid" 2>/dev/null || true' EXIT
  for _ in $(seq 1 120); do
    healthy && break
    kill -0 "$actions_pid" 2>/dev/null || { tail -20 logs/actions.log; exit 1; }
    sleep 0.5
  done
  healthy || { echo "Action server did not start; see logs/actions.log" >&2; exit 1; }
fi

case "$mode" in
  shell)
    echo "Starting the assistant (about 30 seconds). Type /stop to leave."
    # One conversation per OS user (the learner shell:<user>), so the next `make chat` continues
    # this one. `rasa shell` talks to a server of its own whose REST endpoint takes any sender:
    # it listens on this machine only.
    "${rasa[@]}" shell -m "$model" --conversation-id "shell:${COACH_SHELL_ID:-$(id -un)}" \
      --interface 127.0.0.1 --quiet
    ;;
  server)
    port=${RASA_PORT:-5005}
    # SANIC_WORKERS=N runs N Rasa processes on the port, sharing the lock store in endpoints.yml.
    # The default is one: on 2 cores a second did not raise throughput (README, "Speed").
    cors=()  # the widget on another site's pages needs that site allowed (README, "Website widget")
    [ -n "${WIDGET_ALLOWED_ORIGINS:-}" ] && cors=(--cors $WIDGET_ALLOWED_ORIGINS)
    echo "Starting the Rasa server on port $port (about 30 seconds)..."
    "${rasa[@]}" run -m "$model" --port "$port" --credentials credentials.yml "${cors[@]}" &
    server_pid=$!
    trap 'kill "$server_pid" 2>/dev/null || true; kill "${actions_pid:-}" 2>/dev/null || true' EXIT
    until curl -fsS "http://localhost:$port/" >/dev/null 2>&1; do
      kill -0 "$server_pid" 2>/dev/null || exit 1
      sleep 1
    done
    echo
    echo "The assistant is up. Open http://localhost:$port/webhooks/widget/ in your browser."
    if [ -n "${REST_API_TOKEN:-}" ]; then
      echo "REST (with Authorization: Bearer \$REST_API_TOKEN): /webhooks/rest/webhook"
    else
      echo "REST is off: set REST_API_TOKEN to turn it on (docs/channels.md, REST)."
    fi
    echo "Slack: /webhooks/slack/webhook"
    echo "Press Ctrl+C to stop."
    wait "$server_pid"
    ;;
  *) echo "usage: $0 shell|server" >&2; exit 2 ;;
esac
