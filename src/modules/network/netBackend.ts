/**
 * What a virtual NIC needs from the network behind it (design.md: "Host
 * backends sit behind interfaces"): it hands over each frame the guest sends;
 * the backend delivers frames for the guest through the `send` callback it was
 * built with. User-mode NAT implements it now; a virtual switch port later.
 */
export interface NetBackend {
  /** Takes one Ethernet frame the guest transmitted. */
  receive(frame: Uint8Array): void;
  /** Releases host resources (sockets). */
  close(): void;
}
