#!/usr/bin/env bash
# Runs the end-to-end tests through the real app window: a private kernel session
# keyring (for the database keys), a private D-Bus session, a virtual X display,
# tauri-driver + WebKitWebDriver. The app must already be built.
#
# WebKitGTK's web process sometimes dies under a loaded two-core machine
# ("session deleted because of page crash or hang": the window goes black; a test that
# meets the black window before WebDriver notices says "page crash or hang" itself). A
# test that failed that way, and only that way, runs once more on its own, and the
# script says so; any other failure fails at once.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

run() {
  keyctl session - dbus-run-session -- xvfb-run -a -s "-screen 0 2640x1400x24" \
    cargo test --workspace --test e2e -- --ignored --test-threads=1 "$@"
}

log=$(mktemp)
trap 'rm -f "$log"' EXIT
if run "$@" 2>&1 | tee "$log"; then
  exit 0
fi
crashes=$(grep -c "page crash or hang" "$log" || true)
# The names cargo lists under "failures:" at the end.
failed=$(awk '/^failures:$/ { list = 1; next } /^test result/ { list = 0 }
  list && /^    e2e::/ { print $1 }' "$log" | sort -u)
if [ -z "$failed" ] || [ "$crashes" -lt "$(echo "$failed" | wc -l)" ]; then
  exit 1
fi
for name in $failed; do
  echo "e2e.sh: WebKit's page crashed under $name; running it once more" >&2
  run --exact "$name"
done
