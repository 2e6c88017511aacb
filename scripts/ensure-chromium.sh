#!/usr/bin/env bash
# The browser tier drives the system's Chromium (Playwright's own browser download is not available here).
# Installs the Debian package when the binary is missing; CHROMIUM_PATH points at another binary.
set -euo pipefail
binary="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ -x "$binary" ]; then
  exit 0
fi
echo "Chromium not found at $binary: installing the Debian package 'chromium'" >&2
if [ "$(id -u)" -eq 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
elif command -v sudo >/dev/null 2>&1; then
  sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
else
  echo "Install Chromium (apt-get install chromium) or set CHROMIUM_PATH, then run the tests again." >&2
  exit 1
fi
test -x "$binary" || { echo "Chromium is still missing at $binary" >&2; exit 1; }
