#!/usr/bin/env bash
# Opens the app window. Without a display (a server, CI) it runs on a virtual one.
set -euo pipefail
cd "$(dirname "$0")/.."
app=target/debug/doorstep-app
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "No display found: running the window on a virtual X display (xvfb-run)." >&2
  # No desktop session, so no Secret Service: keep the database key in a named kernel
  # session keyring, which later runs rejoin (until the machine restarts).
  exec keyctl session doorstep-app xvfb-run -a -s "-screen 0 1280x800x24" "$app"
fi
exec "$app"
