#!/usr/bin/env bash
# Installs what building, running and testing Doorstep needs on Debian/Ubuntu, skipping
# whatever is already there: system packages (apt, with sudo when not root), the
# frontend's npm packages, and tauri-driver for the end-to-end tests.
set -euo pipefail
cd "$(dirname "$0")/.."

SYSTEM_PACKAGES=(
  build-essential pkg-config file libssl-dev
  libwebkit2gtk-4.1-dev libxdo-dev libayatana-appindicator3-dev librsvg2-dev
  xvfb xauth webkit2gtk-driver dbus dbus-x11 keyutils fonts-wqy-microhei imagemagick curl
  # Gives the test window the keyboard (the test display has no window manager).
  xdotool
  postgresql
  # Read-aloud: speech-dispatcher with espeak-ng's Mandarin voice; libspeechd-dev and
  # libclang-dev to build the tts crate's bindings; sox to check synthesized audio.
  speech-dispatcher speech-dispatcher-espeak-ng espeak-ng libspeechd-dev libclang-dev sox
  # Reading receipts (PDF) back in the tests.
  poppler-utils
  # A Chinese locale, so that GTK's own dialogs (the file chooser) speak Chinese too.
  locales
)
TAURI_DRIVER_VERSION=2.1.0

say() { printf '==> %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

missing=()
for pkg in "${SYSTEM_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  missing+=(nodejs npm)
fi
if [ "${#missing[@]}" -gt 0 ]; then
  say "installing system packages: ${missing[*]}"
  as_root apt-get update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi

if ! locale -a 2>/dev/null | grep -qix 'zh_CN.utf8'; then
  say "generating the zh_CN.UTF-8 locale (for GTK's file chooser)"
  as_root localedef -i zh_CN -f UTF-8 zh_CN.UTF-8
fi

node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "Node.js 20 or newer is needed (found $(node --version)); install it and run again." >&2
  exit 1
fi

if ! command -v cargo >/dev/null; then
  echo "Rust (cargo) is needed: install it with rustup, then run again." >&2
  exit 1
fi

if [ ! -d frontend/node_modules ] || [ frontend/package-lock.json -nt frontend/node_modules/.package-lock.json ]; then
  say "installing the frontend's npm packages"
  (cd frontend && npm ci --no-audit --no-fund)
fi

if ! command -v tauri-driver >/dev/null || ! tauri-driver --help >/dev/null 2>&1; then
  say "installing tauri-driver $TAURI_DRIVER_VERSION"
  cargo install tauri-driver --locked --version "$TAURI_DRIVER_VERSION"
fi
