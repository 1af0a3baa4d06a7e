#!/usr/bin/env bash
# Downloads Debian 13 (trixie) riscv64 packages without apt: fetches the
# package index, checks each .deb against the SHA-256 the index gives, and
# unpacks it. (apt on a Debian 12 amd64 host cannot install foreign riscv64
# packages from trixie, and the riscv64 index can fail apt's size check.)
#
# usage: scripts/debian-riscv64.sh OUTDIR PACKAGE...
#   PACKAGE may be a shell glob matched against package names, e.g.
#   'linux-image-6.12.*-riscv64' (the newest match is taken).
# Result: OUTDIR/debs/*.deb and OUTDIR/root/ with every package unpacked.
set -euo pipefail
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
out=$1; shift
mkdir -p "$out/debs" "$out/root"
index="$out/Packages"
if [ ! -s "$index" ]; then
  curl -fsS "$MIRROR/dists/trixie/main/binary-riscv64/Packages.xz" | xz -dc > "$index.tmp"
  mv "$index.tmp" "$index"
fi
for want in "$@"; do
  # Stanzas whose Package matches the glob: print "version filename sha256", newest version last.
  line=$(awk -v pat="$want" '
    BEGIN { gsub(/\./, "\\.", pat); gsub(/\*/, ".*", pat); pat = "^" pat "$" }
    /^Package: / { pkg = $2; ver = ""; file = ""; sha = "" }
    /^Version: / { ver = $2 }
    /^Filename: / { file = $2 }
    /^SHA256: / { sha = $2 }
    /^$/ { if (pkg ~ pat && file != "") print ver, file, sha; pkg = "" }
  ' "$index" | sort -V | tail -1)
  if [ -z "$line" ]; then echo "debian-riscv64: no package matches $want" >&2; exit 1; fi
  read -r ver file sha <<<"$line"
  deb="$out/debs/$(basename "$file")"
  if [ ! -s "$deb" ] || ! echo "$sha  $deb" | sha256sum -c --quiet - 2>/dev/null; then
    curl -fsS -o "$deb.tmp" "$MIRROR/$file"
    echo "$sha  $deb.tmp" | sha256sum -c --quiet - || { echo "debian-riscv64: checksum mismatch for $file" >&2; exit 1; }
    mv "$deb.tmp" "$deb"
  fi
  dpkg-deb -x "$deb" "$out/root"
  echo "$(basename "$deb") $ver"
done
