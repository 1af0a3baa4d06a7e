/**
 * The default guest shipped in the package (built by
 * guest/build-default-guest.sh from Debian's linux-source and busybox).
 */
import { fileURLToPath } from "node:url";
import { join } from "node:path";

// dist/src/cli/ -> package root
const root = fileURLToPath(new URL("../../../", import.meta.url));

export const DEFAULT_GUEST = {
  kernel: join(root, "guest", "default", "Image"),
  initrd: join(root, "guest", "default", "initramfs.cpio"),
};
