#!/usr/bin/env bash
# Builds tidemark_<version>_<arch>.deb with dpkg-deb, from this checkout:
#   /usr/lib/tidemark            the npm package's files (package.json "files") and its production
#                                dependencies, exactly as npm-shrinkwrap.json pins them (npm ci --omit=dev)
#   /usr/bin/tidemark            runs it with Debian's/NodeSource's /usr/bin/node
#   /lib/systemd/system          tidemark-worker@.service
#   /etc/tidemark/tidemark.yaml  the commented example inventory (a conffile: upgrades keep your edits)
#   /usr/share/tidemark          the host's ssh filter, install-temporal-cli
#   /usr/share/man/man1          one page per verb, generated from the CLI's own --help
#   bash scripts/build-deb.sh [--no-build] [--version VERSION] [--out DIR]
# --no-build uses dist/ as it is (the tests build first); --version overrides package.json's.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
build=1
version=$(node -p 'require("./package.json").version')
out=$repo
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) build=0 ;;
    --version) version=$2; shift ;;
    --out) out=$2; shift ;;
    *) echo "build-deb: unknown argument $1 (--no-build, --version V, --out DIR)" >&2; exit 2 ;;
  esac
  shift
done
arch=$(dpkg --print-architecture)
# The one Temporal core-bridge binary this architecture loads; the other platforms' are dropped.
case "$arch" in
  amd64) triple=x86_64-unknown-linux-gnu ;;
  arm64) triple=aarch64-unknown-linux-gnu ;;
  *) echo "build-deb: Temporal's SDK ships no binary for $arch" >&2; exit 2 ;;
esac
umask 022

# A clean build, as `npm pack` would make it (prepack), unless the caller just built.
if [ "$build" = 1 ]; then rm -rf dist && npm run build --silent; fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root
lib=$root/usr/lib/tidemark
mkdir -p "$lib" "$root/DEBIAN"

# The npm package's own file list, unpacked; then its pinned production dependencies.
npm pack --ignore-scripts --silent --pack-destination "$work" >/dev/null
tar -xzf "$work"/tidemark-*.tgz -C "$lib" --strip-components=1 --no-same-owner
node -e 'const f=process.argv[1],p=JSON.parse(require("fs").readFileSync(f));p.version=process.argv[2];require("fs").writeFileSync(f,JSON.stringify(p,null,2)+"\n")' \
  "$lib/package.json" "$version"
# Install scripts stay off (npm 11's default too): the SDK's native module is prebuilt.
(cd "$lib" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error)
bridge=$lib/node_modules/@temporalio/core-bridge
[ -f "$bridge/releases/$triple/index.node" ] || { echo "build-deb: $bridge/releases/$triple/index.node missing" >&2; exit 1; }
# Rust sources and other platforms' binaries: 140 MB nothing loads.
find "$bridge/releases" -mindepth 1 -maxdepth 1 ! -name "$triple" -exec rm -rf {} +
rm -rf "$bridge/sdk-core" "$bridge/src" "$bridge/bridge-macros" "$bridge"/Cargo.*
# What no program reads at run time: source maps, TypeScript sources and declarations.
find "$lib/node_modules" -type f \( -name '*.map' -o -name '*.ts' -o -name '*.tsbuildinfo' \) -delete
find "$lib" -type f \( -name .gitignore -o -name .gitattributes -o -name .npmignore -o -name .eslintrc\* -o -name .prettierrc\* \) -delete
find "$lib" -depth -type d -empty -delete

mkdir -p "$root/usr/bin" "$root/lib/systemd/system" "$root/etc/tidemark" "$root/usr/share/tidemark" \
  "$root/usr/share/man/man1" "$root/usr/share/doc/tidemark" "$root/usr/share/lintian/overrides"
cat >"$root/usr/bin/tidemark" <<'EOF'
#!/bin/sh
exec /usr/bin/node /usr/lib/tidemark/dist/client/cli.js "$@"
EOF
install -m 0644 deploy/systemd/tidemark-worker@.service "$root/lib/systemd/system/"
install -m 0644 deploy/tidemark.example.yaml "$root/etc/tidemark/tidemark.yaml"
# The filter's one copy is under /usr/share; host-setup finds it through the package's own path.
mv "$lib/deploy/host/tidemark-ssh-filter" "$root/usr/share/tidemark/tidemark-ssh-filter"
ln -s ../../../../share/tidemark/tidemark-ssh-filter "$lib/deploy/host/tidemark-ssh-filter"
install -m 0755 deploy/temporal/install-temporal-cli "$root/usr/share/tidemark/"
install -m 0644 packaging/lintian-overrides "$root/usr/share/lintian/overrides/tidemark"

# The native modules as dh_strip leaves them; their library dependencies as dpkg-shlibdeps finds them.
natives=$(find "$lib/node_modules" -type f -name '*.node')
# shellcheck disable=SC2086 # one word per file (no spaces in node_modules paths)
strip --strip-unneeded --remove-section=.comment --remove-section=.note $natives
mkdir -p "$work/debian"
printf 'Source: tidemark\n\nPackage: tidemark\nArchitecture: any\n' >"$work/debian/control"
# shellcheck disable=SC2086
shlibs=$(cd "$work" && dpkg-shlibdeps -O $(printf -- '-e%s ' $natives) 2>/dev/null | sed -n 's/^shlibs:Depends=//p')

node dist/packaging/man-pages.js "$lib/dist/client/cli.js" "$root/usr/share/man/man1" >/dev/null
gzip -9n "$root"/usr/share/man/man1/*.1

{
  echo 'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/'
  echo 'Upstream-Name: tidemark'
  echo
  echo 'Files: *'
  echo 'Copyright: 2026 The Tidemark authors'
  echo 'License: Expat'
  echo
  echo 'Files: usr/lib/tidemark/node_modules/*'
  echo 'Copyright: each module'"'"'s authors, as its package.json and license file say'
  echo 'License: various-free'
  echo ' Each module keeps its own license file in its folder (MIT, ISC, Apache-2.0, BSD).'
  echo
  echo 'License: Expat'
  sed -e '1,2d' -e 's/^$/./' -e 's/^/ /' LICENSE
} >"$root/usr/share/doc/tidemark/copyright"
# A native package's changelog: one entry for the version built.
printf 'tidemark (%s) unstable; urgency=medium\n\n  * Built from %s.\n\n -- Tidemark maintainers <tidemark@example.org>  %s\n' \
  "$version" "$(git rev-parse --short HEAD 2>/dev/null || echo 'a source tree')" \
  "$(date -R -d "@${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}")" \
  | gzip -9n >"$root/usr/share/doc/tidemark/changelog.gz"

install -m 0755 packaging/postinst packaging/postrm "$root/DEBIAN/"
echo /etc/tidemark/tidemark.yaml >"$root/DEBIAN/conffiles"

# Owners are root (dpkg-deb --root-owner-group); modes: directories 0755, files 0644, executable only
# the commands: ours and those npm links in node_modules/.bin (some modules ship everything +x).
find "$root" -type d -exec chmod 0755 {} +
find "$root" -type f -exec chmod 0644 {} +
chmod 0755 "$root/usr/bin/tidemark" "$lib/dist/client/cli.js" "$root"/usr/share/tidemark/* "$root"/DEBIAN/post*
find "$lib/node_modules/.bin" -type l -exec chmod 0755 {} +
# Scripts (a #! line) stay runnable, as their modules published them.
find "$lib/node_modules" -type f -print0 |
  xargs -0 perl -e 'for (@ARGV) { open my $f, "<", $_ or next; read $f, my $b, 2; print "$_\0" if $b eq "#!" }' |
  xargs -0 -r chmod 0755
# /etc/tidemark will also hold the ssh private key and the Temporal client key (the unit's mode, too).
chmod 0700 "$root/etc/tidemark"

installed_size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat >"$root/DEBIAN/control" <<EOF
Package: tidemark
Version: $version
Architecture: $arch
Maintainer: Tidemark maintainers <tidemark@example.org>
Installed-Size: $installed_size
Depends: $shlibs, nodejs (>= 20), rsync, openssh-client, zfsutils-linux | zfs-fuse
Suggests: python3-venv
Section: admin
Priority: optional
Description: backup orchestrator: rsync over SSH into ZFS, driven by Temporal
 Tidemark backs up Linux hosts with rsync over SSH into one ZFS dataset per
 host, snapshots each run and prunes by a retention policy. Temporal runs
 the schedules, retries and history; one worker runs on each backup server
 (systemd unit tidemark-worker@<server>).
 .
 The Temporal CLI is not packaged: /usr/share/tidemark/install-temporal-cli
 installs it (needs python3-venv).
EOF
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"

mkdir -p "$out"
deb=$out/tidemark_${version}_${arch}.deb
dpkg-deb --root-owner-group -Zgzip --build "$root" "$deb" >/dev/null
echo "$deb"
