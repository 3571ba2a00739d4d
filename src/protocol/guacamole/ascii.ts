/**
 * Index of the first byte at or after `from` (and before `end`) that is not ASCII, or `end`.
 * Eight bytes per step while it can: the scanners' hot path over base64 blob values.
 */
export function asciiRunEnd(bytes: Uint8Array, from: number, end: number): number {
  let j = from;
  const end8 = end - 7;
  while (
    j < end8 &&
    (((bytes[j] as number) |
      (bytes[j + 1] as number) |
      (bytes[j + 2] as number) |
      (bytes[j + 3] as number) |
      (bytes[j + 4] as number) |
      (bytes[j + 5] as number) |
      (bytes[j + 6] as number) |
      (bytes[j + 7] as number)) &
      0x80) ===
      0
  ) {
    j += 8;
  }
  while (j < end && (bytes[j] as number) < 0x80) j++;
  return j;
}
