#!/usr/bin/env bash
# A real NetBox for zz-netbox-real.test.ts, all under .cache/: NetBox (PyPI `netbox`, pinned) needs Python
# >= 3.12 and Debian 12 ships 3.11, so CPython is built from the source Debian 13 ships (checksum
# pinned), then NetBox goes into a venv of its own. PostgreSQL and Redis come from Debian. The migrated
# database is made once per NetBox version by the tests themselves (devenv/netbox.ts). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

netbox_version=4.7.3
python_version=3.13.5
python_source="http://deb.debian.org/debian/pool/main/p/python3.13/python3.13_${python_version}.orig.tar.xz"
python_sha256=93e583f243454e6e9e4588ca2c2662206ad961659863277afcdb96801647d640
python_prefix="$PWD/.cache/python-${python_version}"
venv="$PWD/.cache/netbox-venv"

packages=(postgresql redis-server libpq-dev build-essential pkg-config libssl-dev libffi-dev zlib1g-dev libbz2-dev liblzma-dev libsqlite3-dev curl xz-utils)
# The tests start their own PostgreSQL and Redis on loopback ports, not the packages' services.
bash scripts/apt-install.sh --no-service postgresql --no-service redis-server "${packages[@]}"

if [ ! -x "$python_prefix/bin/python3.13" ]; then
  echo "setup-netbox: building CPython ${python_version} into ${python_prefix} (a few minutes)"
  build=$(mktemp -d /tmp/tidemark-python-XXXXXX)
  curl -fsS -o "$build/python.tar.xz" "$python_source"
  echo "${python_sha256}  $build/python.tar.xz" | sha256sum -c --quiet -
  tar -xJf "$build/python.tar.xz" -C "$build" --strip-components=1
  if ! (cd "$build" && ./configure --prefix="$python_prefix" --with-ensurepip=install --disable-test-modules && make -j"$(nproc)" && make altinstall) >"$build/build.log" 2>&1; then
    tail -30 "$build/build.log" >&2
    echo "setup-netbox: building CPython failed (log above, full log in $build/build.log)" >&2
    exit 1
  fi
  rm -rf "$build"
  "$python_prefix/bin/python3.13" -c 'import ssl, ctypes, sqlite3, lzma, bz2, zlib' || { echo "setup-netbox: the built Python lacks a module NetBox needs" >&2; exit 1; }
fi

if [ ! -x "$venv/bin/netbox" ] || [ "$("$venv/bin/netbox" version 2>/dev/null)" != "$netbox_version" ]; then
  echo "setup-netbox: installing NetBox ${netbox_version} into ${venv}"
  rm -rf "$venv"
  "$python_prefix/bin/python3.13" -m venv "$venv"
  # (This machine's pip configuration names local package folders that may be absent: not worth a line each.)
  "$venv/bin/pip" install -q --disable-pip-version-check "netbox==${netbox_version}" 2>&1 | { grep -v "^WARNING: Location 'file:" || true; }
fi
