/** A VM could not be built or run as configured; the message is one line meant for the user. */
export class VmmError extends Error {
  override name = "VmmError";
}
