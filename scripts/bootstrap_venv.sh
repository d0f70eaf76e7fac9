#!/usr/bin/env bash
# Create the virtualenv with Python 3.10 (Rasa 3.6 supports 3.8-3.10 only) and install the exact
# pinned dependency set from requirements.lock (+ requirements-nodeps.lock). Re-running does
# nothing if the locks are unchanged.
set -euo pipefail
venv=${1:-.venv}
lock=requirements.lock
nodeps_lock=requirements-nodeps.lock  # packages whose declared dependencies are not needed
stamp="$venv/.lock.sha256"
UV_VERSION=0.13.9

find_python() {
  local candidate
  for candidate in "${PYTHON:-}" python3.10 "$HOME"/.pyenv/versions/3.10*/bin/python3.10 \
                   /usr/bin/python3.10 /usr/local/bin/python3.10; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; then
      command -v "$candidate"; return 0
    fi
  done
  return 1
}

# The project's packages (addons/, actions/, common/) on the venv's path wherever it starts: a
# `rasa` that cannot import addons.tracker_store silently keeps conversations in memory only.
know_the_project() {
  local site
  site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
  echo "$PWD" > "$site/career-coach-project.pth"
}

want=$( (cat "$lock" "$nodeps_lock"; echo "uv $UV_VERSION") | sha256sum | cut -d' ' -f1)
if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  know_the_project
  exit 0
fi

if [ ! -x "$venv/bin/python" ]; then
  if ! python=$(find_python); then
    cat >&2 <<'MSG'
Python 3.10 is required (Rasa 3.6 does not install on 3.11 or later) and none was found.
Install it, then re-run, for example:
  pyenv install 3.10.13            (with pyenv)
  sudo apt-get install python3.10 python3.10-venv   (Debian/Ubuntu with 3.10 available)
or point PYTHON at one:  PYTHON=/path/to/python3.10 make chat
MSG
    exit 1
  fi
  echo "Creating $venv with $python"
  "$python" -m venv "$venv"
fi

log=logs/pip-install.log
mkdir -p logs
echo "Installing pinned dependencies (first time: under a minute; log in $log)..."
# uv installs the same pinned set as pip would, in parallel: under a minute against pip's 6 on a
# fresh machine (2 cores). It trusts the system's certificates, as pip does (networks that
# inspect TLS add their authority there); if uv fails anyway, pip installs the same set.
install_with_uv() {
  "$venv/bin/python" -m pip install --upgrade "pip==24.0" "uv==$UV_VERSION" &&
    "$venv/bin/uv" pip install --system-certs --python "$venv/bin/python" -r "$lock" &&
    "$venv/bin/uv" pip install --system-certs --python "$venv/bin/python" --no-deps -r "$nodeps_lock"
}
install_with_pip() {
  echo "uv failed; installing with pip instead."
  "$venv/bin/python" -m pip install -r "$lock" &&
    "$venv/bin/python" -m pip install --no-deps -r "$nodeps_lock"
}
if ! { install_with_uv || install_with_pip; } >"$log" 2>&1; then
  tail -30 "$log" >&2
  echo "Dependency install failed (full log: $log)." >&2
  exit 1
fi
know_the_project
echo "$want" > "$stamp"
