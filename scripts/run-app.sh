#!/usr/bin/env bash
# Starts the sync server (embedded SQLite) and opens the app, enrolled for a demo
# committee. Without a display (a server, CI) the window runs on a virtual one.
#
#   DOORSTEP_DEMO_DIR   where the demo server and app keep their data (default: .demo/)
#   DOORSTEP_ROLE       volunteer (default) or supervisor: the supervisor's console
#   DOORSTEP_DATA_DIR   the app's data folder (default: $DOORSTEP_DEMO_DIR/app, or
#                       $DOORSTEP_DEMO_DIR/supervisor for a supervisor)
#   DOORSTEP_LISTEN     the server's address (default: 127.0.0.1:8787)
set -euo pipefail
cd "$(dirname "$0")/.."
app=target/debug/doorstep-app
server=target/debug/doorstep-server
demo_dir=${DOORSTEP_DEMO_DIR:-$PWD/.demo}
listen=${DOORSTEP_LISTEN:-127.0.0.1:8787}
url="https://$listen"
export DOORSTEP_SERVER_DATA="$demo_dir/server"
role=${DOORSTEP_ROLE:-volunteer}
case "$role" in
  volunteer) person="示范志愿者" default_data="$demo_dir/app" ;;
  supervisor) person="示范主任" default_data="$demo_dir/supervisor" ;;
  *) echo "DOORSTEP_ROLE must be volunteer or supervisor, not \"$role\"" >&2; exit 2 ;;
esac
export DOORSTEP_DATA_DIR=${DOORSTEP_DATA_DIR:-$default_data}
mkdir -p "$DOORSTEP_SERVER_DATA"

server_pid=
if curl -kfsS "$url/healthz" >/dev/null 2>&1; then
  echo "A Doorstep server already answers at $url; using it." >&2
else
  "$server" serve --listen "$listen" >"$demo_dir/server.log" 2>&1 &
  server_pid=$!
  trap '[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true' EXIT
  for _ in $(seq 1 100); do
    curl -kfsS "$url/healthz" >/dev/null 2>&1 && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$demo_dir/server.log" >&2; exit 1; }
    sleep 0.1
  done
  echo "Sync server on $url (data in $DOORSTEP_SERVER_DATA, log in $demo_dir/server.log)." >&2
fi

# A demo committee, and a fresh enrollment text (the server's address, the pin of its
# key, a one-time code) the app uses if it is not enrolled yet (an enrolled app ignores
# it; unused codes expire in a day).
"$server" committee add --id demo --name "示范村委会" --phone 0790-1234567 >/dev/null
text=$("$server" enroll --committee demo --role "$role" --name "$person" \
  --server-url "$url" --qr "$demo_dir/enroll.png" | sed -n 's/^enrollment text: //p')
export DOORSTEP_ENROLL_CODE="$text" DOORSTEP_SERVER_URL="$url"

# GTK's own dialogs (the file chooser behind "选择文件") speak the process's language:
# Chinese, like the window, when the locale is there (scripts/install-deps.sh makes it).
if locale -a 2>/dev/null | grep -qix 'zh_CN.utf8'; then
  export LANG=zh_CN.UTF-8 LANGUAGE=zh_CN:en
  unset LC_ALL
fi

if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "No display found: running the window on a virtual X display (xvfb-run)." >&2
  # No desktop session, so no Secret Service: keep the database key in a named kernel
  # session keyring, which later runs rejoin (until the machine restarts).
  # (Keys live in the user's persistent kernel keyring, named after the data folder.)
  folder_hash=$(printf '%s' "$(realpath "$DOORSTEP_DATA_DIR" 2>/dev/null || echo none)" |
    sha256sum | cut -c1-32)
  persistent=$(keyctl get_persistent @s 2>/dev/null || true)
  held=$(for k in $(keyctl rlist "$persistent" 2>/dev/null); do keyctl rdescribe "$k" 2>/dev/null || true; done)
  if [ -f "$DOORSTEP_DATA_DIR/doorstep.sqlite3" ] &&
    [[ "$held" != *"keyring:db-key:$folder_hash@org.doorstep.app"* ]]; then
    # The machine restarted and the kernel keyring forgot the demo database's key: the
    # old demo data cannot be opened again. It is set aside, never deleted.
    aside="$DOORSTEP_DATA_DIR.unopenable-$(date +%Y%m%d-%H%M%S)"
    echo "The demo database's key was lost with the kernel keyring (a restart?);" \
      "moving the old demo data to $aside and starting afresh." >&2
    mv "$DOORSTEP_DATA_DIR" "$aside"
  fi
  keyctl session doorstep-app xvfb-run -a -s "-screen 0 1280x800x24" "$app"
else
  "$app"
fi
