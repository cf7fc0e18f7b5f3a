#!/usr/bin/env bash
# Builds tsbeat_VERSION_amd64.deb with dpkg-deb (`npm run package` runs `npm run build` first).
#
#   scripts/package/build-deb.sh [--out DIR] [--compress zstd|xz]
#
# DIR defaults to the checkout. zstd (the default; Debian 12's dpkg reads it) takes seconds
# and gives about 40 MB; xz, the archive's usual choice, about 30 MB but minutes of CPU for the
# 120 MB runtime binary.
#
# The package is self-contained: a Node 24 runtime (scripts/package/node-runtime.sh, fetched
# once from the npm registry and checked against its pinned sha512), the compiled dist/, the
# production node_modules only (xstate, pino, serialport with its linux-x64 prebuilt binding),
# so it installs on a Debian 12 machine without npm, Node or network. Layout:
#   /usr/lib/tsbeat/{node/bin/node,dist,node_modules,package.json}   the program and its runtime
#   /usr/bin/{tsbeat,cl_status,hb_standby,hb_takeover,check_tsbeat}  commands (sh wrappers)
#   /usr/lib/nagios/plugins/check_tsbeat                             link for Nagios/Icinga
#   /usr/lib/ocf/resource.d/tsbeat/NAME                              OCF agents
#   /usr/lib/tsbeat/resource.d/NAME                                  heartbeat-style scripts
#   /lib/systemd/system/tsbeat.service, /etc/logrotate.d/tsbeat      unit, rotation
#   /usr/share/man/man{1,5,8}/*.gz, /usr/share/doc/tsbeat/examples/  man pages, examples
# Environment: TSBEAT_PKG_CACHE (the runtime cache, default /var/cache/tsbeat-pkg).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
out=$repo
compress=zstd
while [ $# -gt 0 ]; do
  case $1 in
    --out) out=${2:?--out needs a directory}; shift 2 ;;
    --compress)
      compress=${2:-}
      case $compress in zstd | xz) ;; *) echo "build-deb: --compress zstd or xz" >&2; exit 2 ;; esac
      shift 2 ;;
    *) echo "build-deb: unknown argument $1 (usage: build-deb.sh [--out DIR] [--compress zstd|xz])" >&2; exit 2 ;;
  esac
done
command -v dpkg-deb >/dev/null || { echo "build-deb: dpkg-deb is missing (apt-get install dpkg)" >&2; exit 1; }
[ -f "$repo/dist/cli/tsbeat.js" ] || { echo "build-deb: $repo/dist is not built (npm run build)" >&2; exit 1; }
[ -d "$repo/node_modules/xstate" ] || { echo "build-deb: $repo/node_modules is missing (npm ci)" >&2; exit 1; }

version=$(node -p "require('$repo/package.json').version")
node_bin=$("$here/node-runtime.sh")
node_dir=$(dirname "$(dirname "$node_bin")")
stage=$(mktemp -d "${TMPDIR:-/tmp}/tsbeat-deb.XXXXXX")
trap 'rm -rf "$stage"' EXIT
lib=$stage/usr/lib/tsbeat
install -d "$lib" "$stage/usr/bin" "$stage/DEBIAN"

# The runtime: only the binary (the tarball's headers are for addon builds) and its licence.
install -D -m 0755 "$node_bin" "$lib/node/bin/node"
install -D -m 0644 "$node_dir/LICENSE" "$stage/usr/share/doc/tsbeat/node.LICENSE"

# The program. ES modules: package.json's "type" tells Node so, and nothing else of it is needed.
cp -r "$repo/dist" "$lib/dist"
rm -rf "$lib/dist/bench"
find "$lib/dist" -name '*.map' -delete
printf '{ "name": "tsbeat", "version": "%s", "type": "module", "private": true }\n' "$version" > "$lib/package.json"

# Production dependencies: every package-lock entry not marked dev, copied without its nested
# node_modules (nested entries are listed, and copied, on their own).
(cd "$repo" && node -e '
  const fs = require("node:fs");
  const path = require("node:path");
  const lock = require("./package-lock.json");
  const dst = process.argv[1];
  for (const [key, meta] of Object.entries(lock.packages)) {
    if (!key.startsWith("node_modules/") || meta.dev || meta.devOptional) continue;
    if (!fs.existsSync(key)) {
      if (meta.optional) continue;
      throw new Error(`${key} is in package-lock.json but not installed: run npm ci`);
    }
    fs.cpSync(key, path.join(dst, key), {
      recursive: true,
      dereference: true,
      filter: (src) => path.relative(key, src).split(path.sep)[0] !== "node_modules",
    });
  }' "$lib")
# serialport's native binding: keep the linux-x64 prebuilt one, drop the other platforms'.
prebuilds=$lib/node_modules/@serialport/bindings-cpp/prebuilds
[ -d "$prebuilds/linux-x64" ] || { echo "build-deb: no linux-x64 prebuilt serialport binding in node_modules" >&2; exit 1; }
find "$prebuilds" -mindepth 1 -maxdepth 1 ! -name linux-x64 -exec rm -rf {} +

# Commands on PATH: each runs its module with the packaged runtime, whatever node PATH has.
# tsbeat (the daemon under systemd: tsbeat start --foreground) gets the node options the daemon
# needs to be real-time (DAEMON_NODE_FLAGS in src/daemon/os-tuning.ts: GC on the main thread).
daemon_flags=$("$node_bin" --input-type=module -e "import { DAEMON_NODE_FLAGS } from '$lib/dist/daemon/os-tuning.js'; console.log(DAEMON_NODE_FLAGS.join(' '))")
for cmd in tsbeat cl_status hb_standby hb_takeover check_tsbeat; do
  [ -f "$lib/dist/cli/$cmd.js" ] || { echo "build-deb: dist/cli/$cmd.js is missing" >&2; exit 1; }
  flags=""
  [ "$cmd" = tsbeat ] && flags="$daemon_flags "
  cat > "$stage/usr/bin/$cmd" <<EOF
#!/bin/sh
# $cmd from the tsbeat package: the program in /usr/lib/tsbeat, on its own Node runtime.
exec /usr/lib/tsbeat/node/bin/node $flags/usr/lib/tsbeat/dist/cli/$cmd.js "\$@"
EOF
  chmod 0755 "$stage/usr/bin/$cmd"
done
install -d "$stage/usr/lib/nagios/plugins"
ln -s ../../../bin/check_tsbeat "$stage/usr/lib/nagios/plugins/check_tsbeat"

# Resource agents, as `tsbeat install-agents` writes them, pointing at the packaged files: OCF
# agents where Pacemaker looks (provider tsbeat); heartbeat-style scripts under /usr/lib/tsbeat,
# not /etc/ha.d/resource.d, whose IPaddr, Filesystem, ... belong to heartbeat's package.
"$node_bin" --input-type=module -e '
  import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
  const [distUrl, stage] = process.argv.slice(1);
  const { shimText } = await import(`${distUrl}/cli/install-agents.js`);
  const { agentNames } = await import(`${distUrl}/agents/registry.js`);
  const node = "/usr/lib/tsbeat/node/bin/node";
  const js = "/usr/lib/tsbeat/dist/cli/agent.js";
  for (const [kind, dir] of [["ocf", "/usr/lib/ocf/resource.d/tsbeat"], ["hb", "/usr/lib/tsbeat/resource.d"]]) {
    mkdirSync(stage + dir, { recursive: true });
    for (const name of agentNames()) {
      writeFileSync(`${stage}${dir}/${name}`, shimText(kind, name, node, js));
      chmodSync(`${stage}${dir}/${name}`, 0o755);
    }
  }' "file://$repo/dist" "$stage"

install -D -m 0644 "$here/tsbeat.service" "$stage/lib/systemd/system/tsbeat.service"
install -D -m 0644 "$here/tsbeat.logrotate" "$stage/etc/logrotate.d/tsbeat"
install -d -m 0755 "$stage/var/lib/tsbeat"

for page in "$repo"/man/*.[1-8]; do
  name=$(basename "$page")
  install -d "$stage/usr/share/man/man${name##*.}"
  gzip -9n < "$page" > "$stage/usr/share/man/man${name##*.}/$name.gz"
done
doc=$stage/usr/share/doc/tsbeat
install -D -m 0644 "$repo/README.md" "$doc/README.md"
# Examples only: /etc/ha.d stays the operator's (heartbeat's three files, no live config here).
mkdir -p "$doc/examples" && rm -rf "$doc/examples/ha.d" && cp -r "$repo/etc/ha.d" "$doc/examples/ha.d"
cat > "$doc/copyright" <<'EOF'
tsbeat: GPL-2.0-or-later (see /usr/share/common-licenses/GPL-2).
The Node.js runtime in /usr/lib/tsbeat/node: MIT and others, see node.LICENSE beside this file.
The packages in /usr/lib/tsbeat/node_modules: each under the licence in its own directory.
EOF
find "$stage" -type d -exec chmod 0755 {} +
find "$stage/usr/share" -type f -exec chmod 0644 {} +

installed_kb=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
cat > "$stage/DEBIAN/control" <<EOF
Package: tsbeat
Version: $version
Architecture: amd64
Maintainer: tsbeat developers <tsbeat@invalid>
Installed-Size: $installed_kb
Depends: libc6 (>= 2.28), libstdc++6 (>= 5.2), libgcc-s1, iproute2
Recommends: iputils-arping, logrotate
Suggests: cluster-glue, resource-agents
Conflicts: heartbeat
Section: admin
Priority: optional
Description: Linux-HA Heartbeat 3.0.6 reimplemented in TypeScript
 A two-node high-availability cluster manager that reads heartbeat's
 /etc/ha.d (ha.cf, haresources, authkeys) unchanged and speaks heartbeat's
 wire protocol, so tsbeat and heartbeat nodes form one cluster. Includes
 cl_status, hb_standby, hb_takeover, the check_tsbeat monitoring plugin,
 resource agents (heartbeat-style and OCF) and its own Node.js 24 runtime.
 .
 It conflicts with heartbeat: both use /etc/ha.d, UDP port 694,
 /usr/bin/cl_status and the same man pages.
EOF
echo /etc/logrotate.d/tsbeat > "$stage/DEBIAN/conffiles"
install -m 0755 "$here/postinst" "$here/prerm" "$here/postrm" "$stage/DEBIAN/"
# md5sums of the packaged files, conffiles excepted (dpkg tracks those itself), for dpkg --verify.
(cd "$stage" && find . \( -path ./DEBIAN -o -path ./etc \) -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) > "$stage/DEBIAN/md5sums"

mkdir -p "$out"
deb=$out/tsbeat_${version}_amd64.deb
dpkg-deb --root-owner-group "-Z$compress" -z6 --build "$stage" "$deb" >/dev/null
echo "$deb"
