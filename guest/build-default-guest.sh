#!/usr/bin/env bash
# Builds tsxi's default guest from Debian's packages:
#   guest/default/Image           Linux from Debian's linux-source-6.12, cross-compiled
#                                 with gcc-riscv64-linux-gnu, configured by guest/kernel.config
#   guest/default/initramfs.cpio  Debian trixie's busybox-static (riscv64) and guest/init,
#                                 packed by tsxi's own cpio writer (src/image/cpio.ts)
# Needs: a Debian 12 host, root for apt-get, the network to Debian's mirror.
# usage: guest/build-default-guest.sh [WORKDIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
work=${1:-/tmp/tsxi-guest-build}
mkdir -p "$work" "$here/default"
export DEBIAN_FRONTEND=noninteractive
SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get install -y -qq --no-install-recommends linux-source-6.12 gcc-riscv64-linux-gnu \
  make gcc bc bison flex libc6-dev xz-utils >/dev/null

src=$(ls -d "$work"/linux-source-6.12 2>/dev/null || true)
if [ -z "$src" ]; then
  tar -C "$work" -xf /usr/src/linux-source-6.12.tar.xz
  src="$work/linux-source-6.12"
fi
k="make -C $src ARCH=riscv CROSS_COMPILE=riscv64-linux-gnu- -j$(nproc)"
$k tinyconfig >/dev/null
(cd "$src" && ARCH=riscv ./scripts/kconfig/merge_config.sh -m .config "$here/kernel.config" >/dev/null)
$k olddefconfig >/dev/null
# Every requested option must have survived (a missing dependency silently drops one).
missing=0
while IFS= read -r line; do
  case "$line" in CONFIG_*=y) grep -qx "$line" "$src/.config" || { echo "kernel option not set: $line" >&2; missing=1; };; esac
done < "$here/kernel.config"
[ $missing -eq 0 ] || exit 1
$k Image >/dev/null
cp "$src/arch/riscv/boot/Image" "$here/default/Image"

"$repo/scripts/debian-riscv64.sh" "$work/debian" busybox-static >/dev/null
node "$repo/dist/src/image/mkinitramfs.js" "$work/debian/root/usr/bin/busybox" "$here/rcS" "$here/udhcpc.script" "$here/default/initramfs.cpio"
ls -la "$here/default"
