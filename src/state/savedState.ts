/**
 * Saved state: what a hart or a device writes down so that it can be
 * brought back later, in this process or another (suspend, snapshots with
 * memory, live migration; docs/checkpoint.md). Every model saves a plain
 * JSON record next to its code and restores from a `StateReader`, which
 * checks every field as it is read: a checkpoint is input like any other
 * file and may be truncated, corrupted or from another machine, so a bad
 * field is a one-line `StateError` naming the model and the field, never a
 * host exception or a half-restored model.
 *
 * 64-bit values are hex strings ("0x..."), byte arrays base64: JSON numbers
 * are doubles.
 */

export class StateError extends Error {
  override name = "StateError";
}

export type SavedValue = number | string | boolean | null | SavedValue[] | Saved;
export interface Saved {
  [field: string]: SavedValue;
}

/** A model that can write its state down and bring it back (docs/checkpoint.md). */
export interface Stateful {
  saveState(): Saved;
  /** Restores what saveState returned; checks everything first, so a bad record changes nothing. */
  restoreState(saved: unknown): void;
}

/** A 64-bit value as saved. */
export const hex64 = (v: bigint): string => "0x" + BigInt.asUintN(64, v).toString(16);
/** Bytes as saved. */
export const base64 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("base64");

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Reads one saved record field by field, checking types and ranges. */
export class StateReader {
  private constructor(
    /** Names the record in errors, e.g. "virtio0.queue1". */
    readonly what: string,
    private readonly rec: Record<string, unknown>,
  ) {}

  /** Opens `rec`, the record of `what`, checking that it is an object saved by format `version`. */
  static open(what: string, rec: unknown, version: number): StateReader {
    if (typeof rec !== "object" || rec === null || Array.isArray(rec)) throw new StateError(`${what}: saved state is not a record`);
    const r = new StateReader(what, rec as Record<string, unknown>);
    const v = r.rec.v;
    if (v !== version) throw new StateError(`${what}: saved state version ${JSON.stringify(v)} is not ${version}`);
    return r;
  }

  /** Refuses the record for `field`: for checks across fields, made after reading them. */
  fail(field: string, why: string): never {
    throw new StateError(`${this.what}: field '${field}' ${why}`);
  }

  private get(field: string): unknown {
    if (!Object.hasOwn(this.rec, field)) this.fail(field, "is missing");
    return this.rec[field];
  }

  /** An integer in [min, max]. */
  int(field: string, min: number, max: number): number {
    const v = this.get(field);
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) this.fail(field, `is not an integer in [${min}, ${max}]`);
    return v;
  }

  /**
   * A property of the machine rather than of its state (a count of harts,
   * the type of a device): a checkpoint from another machine is refused.
   */
  same(field: string, here: number): void {
    const v = this.get(field);
    if (v !== here) this.fail(field, `is ${typeof v === "number" ? v : `a ${typeof v}`} in the checkpoint but ${here} on this machine`);
  }

  /** Any finite number. */
  num(field: string): number {
    const v = this.get(field);
    if (typeof v !== "number" || !Number.isFinite(v)) this.fail(field, "is not a finite number");
    return v;
  }

  bool(field: string): boolean {
    const v = this.get(field);
    if (typeof v !== "boolean") this.fail(field, "is not a boolean");
    return v;
  }

  str(field: string, maxLength = 4096): string {
    const v = this.get(field);
    if (typeof v !== "string" || v.length > maxLength) this.fail(field, `is not a string of at most ${maxLength} characters`);
    return v;
  }

  /** A 64-bit value saved with `hex64`, as an unsigned BigInt. */
  u64(field: string): bigint {
    const v = this.get(field);
    if (typeof v !== "string" || !/^0x[0-9a-f]{1,16}$/.test(v)) this.fail(field, "is not a 64-bit hex value");
    return BigInt(v);
  }

  /** Bytes saved with `base64`, at most `maxLength` of them. */
  bytes(field: string, maxLength: number): Uint8Array {
    return this.decode(field, this.get(field), maxLength);
  }

  /** Between `min` and `max` byte strings saved with `base64`, each of at most `maxLength` bytes. */
  byteStrings(field: string, min: number, max: number, maxLength: number): Uint8Array[] {
    return this.list(field, min, max).map((x, k) => this.decode(field, x, maxLength, `[${k}] `));
  }

  /** `at` names an element of a list field, as in `ints`. */
  private decode(field: string, v: unknown, maxLength: number, at = ""): Uint8Array {
    if (typeof v !== "string" || v.length % 4 !== 0 || !BASE64.test(v) || (v.length / 4) * 3 > maxLength + 2) {
      this.fail(field, `${at}is not base64 of at most ${maxLength} bytes`);
    }
    const b = new Uint8Array(Buffer.from(v, "base64"));
    if (b.length > maxLength) this.fail(field, `${at}holds ${b.length} bytes, more than ${maxLength}`);
    return b;
  }

  /** Exactly `length` integers, each in [min, max]. */
  ints(field: string, length: number, min: number, max: number): number[] {
    const v = this.list(field, length, length);
    v.forEach((x, k) => {
      if (typeof x !== "number" || !Number.isInteger(x) || x < min || x > max) this.fail(field, `[${k}] is not an integer in [${min}, ${max}]`);
    });
    return v as number[];
  }

  /** Exactly `length` 64-bit hex values. */
  u64s(field: string, length: number): bigint[] {
    const v = this.list(field, length, length);
    return v.map((x, k) => {
      if (typeof x !== "string" || !/^0x[0-9a-f]{1,16}$/.test(x)) this.fail(field, `[${k}] is not a 64-bit hex value`);
      return BigInt(x);
    });
  }

  /** An array of between `min` and `max` elements, unchecked inside (use `records` or the typed readers). */
  list(field: string, min: number, max: number): unknown[] {
    const v = this.get(field);
    if (!Array.isArray(v) || v.length < min || v.length > max) {
      const want = min === max ? `${min}` : `${min} to ${max}`;
      this.fail(field, Array.isArray(v) ? `is a list of ${v.length}, not ${want}` : `is not a list of ${want} elements`);
    }
    return v;
  }

  /** A field some other model reads, e.g. the nested record of a device in its own format. */
  raw(field: string): unknown {
    return this.get(field);
  }

  /** A nested record saved by format `version`. */
  record(field: string, version: number): StateReader {
    return StateReader.open(`${this.what}.${field}`, this.get(field), version);
  }

  /** A list of between `min` and `max` nested records, each of format `version`. */
  records(field: string, min: number, max: number, version: number): StateReader[] {
    return this.list(field, min, max).map((x, k) => StateReader.open(`${this.what}.${field}[${k}]`, x, version));
  }
}
