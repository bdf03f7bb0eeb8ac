#!/usr/bin/env bash
# A real NetBox for netbox-real.test.ts, all under .cache/: NetBox (PyPI `netbox`, pinned) needs Python
# >= 3.12 and Debian 12 ships 3.11, so NetBox runs in a Debian 13 root of its own (mmdebstrap, about a
# minute; Debian 13's prebuilt python3.13, no compiler run for Python itself) with NetBox in a venv at
# /opt/netbox-venv inside it. PostgreSQL and Redis come from this machine's Debian. The database is loaded
# from a committed dump per NetBox version (devenv/netbox-schema/), not migrated here. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

netbox_version=4.7.3
root="$PWD/.cache/netbox-root"

# The tests start their own PostgreSQL and Redis on loopback ports, not the packages' services.
bash scripts/apt-install.sh --no-service postgresql --no-service redis-server postgresql redis-server mmdebstrap

if [ "$(chroot "$root" /opt/netbox-venv/bin/netbox version 2>/dev/null)" != "$netbox_version" ]; then
  echo "setup-netbox: making a Debian 13 root with NetBox ${netbox_version} in ${root}"
  # The same mirror as this machine's own Debian sources, Debian 13's suite.
  mkdir -p "$(dirname "$root")"
  mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
  [ -n "$mirror" ] || { echo "setup-netbox: no URIs line in /etc/apt/sources.list.d/debian.sources" >&2; exit 1; }
  build="$root.new"
  rm -rf "$build"
  # gcc, libpq-dev, python3.13-dev: NetBox pins psycopg[c], built against libpq when pip installs it.
  mmdebstrap --quiet --variant=minbase \
    --include=python3.13,python3.13-venv,python3.13-dev,libpq-dev,gcc,libc6-dev,ca-certificates \
    trixie "$build" "deb ${mirror} trixie main"
  # This machine's CA bundle: pip inside the root must trust what pip outside it trusts.
  cp /etc/ssl/certs/ca-certificates.crt "$build/etc/ssl/certs/ca-certificates.crt"
  chroot "$build" python3.13 -m venv /opt/netbox-venv
  chroot "$build" env -i HOME=/root PATH=/usr/bin:/bin LANG=C.UTF-8 \
    /opt/netbox-venv/bin/pip install -q --disable-pip-version-check "netbox==${netbox_version}"
  rm -rf "$root"
  mv "$build" "$root"
fi
