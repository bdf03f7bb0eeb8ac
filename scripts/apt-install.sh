#!/usr/bin/env bash
# Installs the Debian packages given that are not installed yet, quietly. A service named with
# --no-service (its package's name, e.g. icinga2) is stopped and disabled if this install brought it:
# the tests run their own instances on loopback ports and the package's service would hold its files or
# ports. A service that was installed before is left alone.
#   bash scripts/apt-install.sh [--no-service NAME]... PACKAGE...
set -euo pipefail

services=()
while [ "${1:-}" = "--no-service" ]; do
  services+=("$2")
  shift 2
done
missing=()
for package in "$@"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "setup: installing ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
command -v systemctl >/dev/null 2>&1 || exit 0
for service in "${services[@]}"; do
  [[ " ${missing[*]} " == *" $service "* ]] || continue
  if systemctl is-active -q "$service" 2>/dev/null; then systemctl disable --now "$service" >/dev/null 2>&1 || true; fi
done
