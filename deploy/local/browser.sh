#!/usr/bin/env bash
# The browser the dashboard's tests drive: Debian's chromium package, which Playwright launches by path
# (/usr/lib/chromium/chromium). Installs it with apt-get when it is missing (as root, as in CI); idempotent.
# Playwright 1.64 expects Chromium 156: keep the two majors together (see Directory.Packages.props).
set -euo pipefail
CHROMIUM=/usr/lib/chromium/chromium

if [[ -x "$CHROMIUM" ]]; then
  echo "browser   $("$CHROMIUM" --version 2>/dev/null | head -n 1) at $CHROMIUM"
  exit 0
fi

if [[ "$(id -u)" != 0 ]]; then
  echo "error: chromium is not installed. Install it as root: apt-get update && apt-get install -y chromium" >&2
  exit 1
fi

echo "browser   installing chromium with apt-get (about 480 MB on a fresh machine) ..."
DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -qq
DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq chromium >/dev/null
[[ -x "$CHROMIUM" ]] || { echo "error: apt-get installed chromium, but $CHROMIUM is missing" >&2; exit 1; }
echo "browser   $("$CHROMIUM" --version 2>/dev/null | head -n 1) at $CHROMIUM"
