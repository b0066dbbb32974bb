#!/usr/bin/env bash
# Runs the end-to-end tests through the real app window: a private kernel session
# keyring (for the database keys), a private D-Bus session, a virtual X display,
# tauri-driver + WebKitWebDriver. The app must already be built.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
exec keyctl session - dbus-run-session -- xvfb-run -a -s "-screen 0 2640x1400x24" \
  cargo test --workspace --test e2e -- --ignored --test-threads=1 "$@"
