/**
 * The 64-byte chat text every scenario sends: a marker, the message's number in its room, the
 * send time and the room, padded to length. Receivers find it by the marker inside whatever frame
 * the server wraps it in (a Roomcast JSON frame, or the bare text from the baseline) and read it
 * straight from the bytes, without parsing the frame: the generator must outrun the servers.
 */
export const PAYLOAD_BYTES = 64;
const MARKER = 0x7e; // "~": appears in no other part of either server's frames
const SEQ_DIGITS = 10;
const TIME_DIGITS = 13;
const ROOM_DIGITS = 5;
const HEAD = 1 + SEQ_DIGITS + 1 + TIME_DIGITS + 1 + ROOM_DIGITS;
const PAD = '.'.repeat(PAYLOAD_BYTES - HEAD);

export interface Stamp {
  seq: number;
  /** Microseconds on the generator's clock when it was sent. */
  sentUs: number;
  room: number;
}

const digits = (value: number, width: number): string => String(Math.trunc(value)).padStart(width, '0');

export function encodePayload(seq: number, sentUs: number, room: number): string {
  return `~${digits(seq, SEQ_DIGITS)}.${digits(sentUs, TIME_DIGITS)}.${digits(room, ROOM_DIGITS)}${PAD}`;
}

function readDigits(bytes: Uint8Array, at: number, width: number): number {
  let value = 0;
  for (let index = at; index < at + width; index += 1) {
    const digit = bytes[index]! - 48;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

/**
 * Reads the stamp of the payload inside `bytes[start, end)` into `into`. False when the frame
 * carries none (presence, errors) or a damaged one.
 */
export function readStamp(bytes: Buffer, start: number, end: number, into: Stamp): boolean {
  const at = bytes.indexOf(MARKER, start);
  if (at < 0 || at + HEAD > end) return false;
  const seq = readDigits(bytes, at + 1, SEQ_DIGITS);
  const sentUs = readDigits(bytes, at + 2 + SEQ_DIGITS, TIME_DIGITS);
  const room = readDigits(bytes, at + 3 + SEQ_DIGITS + TIME_DIGITS, ROOM_DIGITS);
  if (seq < 0 || sentUs < 0 || room < 0) return false;
  into.seq = seq;
  into.sentUs = sentUs;
  into.room = room;
  return true;
}
