#!/bin/sh
# `rasa "$@"`, plus --cors with each origin in WIDGET_ALLOWED_ORIGINS (space-separated), as
# scripts/start.sh does for `make run`. Unset: only the server's own pages may use the widget.
set -eu
if [ -n "${WIDGET_ALLOWED_ORIGINS:-}" ]; then
  # shellcheck disable=SC2086  # one argument per origin
  set -- "$@" --cors $WIDGET_ALLOWED_ORIGINS
fi
exec rasa "$@"
