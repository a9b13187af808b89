/**
 * Hex text and bytes by Node's own codec. @noble/hashes' `bytesToHex` builds its answer one
 * character pair at a time, which for a 40 kB signed mint leaves ≈ 80,000 intermediate strings
 * behind; measured while the mirror worker drained a backlog, that was a sixth of everything the
 * daemon allocated. Buffer's codec writes the answer once, but it stops silently at the first
 * character that is not hex, so input is checked first.
 */

// `test`, not a capturing `exec`: it allocates nothing, which matters at four checks per leaf.
const HEX_DIGITS = /^(?:0x)?[0-9a-fA-F]*$/;

/**
 * @param bytes - any bytes
 * @returns them as lowercase hex, without 0x
 */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/**
 * @param hex - an even number of hex digits, with or without 0x
 * @param what - what the text is, for the error
 * @returns the bytes
 * @throws Error naming `what` when the text is not that
 */
export function fromHex(hex: string, what = 'value'): Uint8Array {
  return Buffer.from(digits(hex, what), 'hex');
}

/**
 * Writes hex digits into `target` at `offset`, without an intermediate array.
 * @param target - where to write
 * @param hex - exactly `length` bytes as hex, with or without 0x
 * @param offset - where in `target` the bytes start
 * @param length - how many bytes `hex` must hold
 * @param what - what the text is, for the error
 * @throws Error naming `what` when the text is not hex or not `length` bytes
 */
export function writeHex(target: Buffer, hex: string, offset: number, length: number, what: string): void {
  const text = digits(hex, what);
  if (text.length !== 2 * length) {
    throw new Error(`${what} must be ${length} bytes, found ${text.length / 2}`);
  }
  target.write(text, offset, length, 'hex');
}

function digits(hex: string, what: string): string {
  const text = hex.startsWith('0x') ? hex.slice(2) : hex;
  if (text.length % 2 !== 0 || !HEX_DIGITS.test(hex)) {
    throw new Error(`${what} is not an even number of hex digits`);
  }
  return text;
}
