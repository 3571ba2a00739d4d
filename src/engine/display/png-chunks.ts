/** PNG container pieces: the signature, chunks (length, type, data, CRC-32) and the CRC-32 itself. */

export const PNG_SIGNATURE: Uint8Array = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

/** CRC-32 lookup table (reflected polynomial 0xEDB88320, as PNG and zlib use). */
const TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/**
 * CRC-32 of bytes, continuing from `crc` (the CRC of the bytes before them; 0 to start). Returns an
 * unsigned 32-bit integer. (node:zlib's crc32 exists only from Node 20.15 / 22.2.)
 */
export function crc32(bytes: Uint8Array, crc = 0): number {
  let c = ~crc;
  for (let i = 0; i < bytes.length; i++) c = (TABLE[(c ^ (bytes[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return ~c >>> 0;
}

/** Bytes a chunk with this much data takes: length, type, data, CRC. */
export function chunkSize(data: Uint8Array): number {
  return 12 + data.length;
}

/**
 * Writes one chunk at out[o..] — 4-byte big-endian length, 4-letter type, data, CRC-32 over type and
 * data — and returns the offset after it.
 */
export function writeChunk(out: Uint8Array, o: number, type: string, data: Uint8Array): number {
  if (!/^[A-Za-z]{4}$/.test(type)) throw new RangeError(`invalid PNG chunk type ${JSON.stringify(type)}`);
  if (o < 0 || o + chunkSize(data) > out.length) throw new RangeError('PNG chunk does not fit');
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  view.setUint32(o, data.length);
  for (let i = 0; i < 4; i++) out[o + 4 + i] = type.charCodeAt(i);
  out.set(data, o + 8);
  const end = o + 8 + data.length;
  view.setUint32(end, crc32(out.subarray(o + 4, end)));
  return end + 4;
}

/** One chunk as its own buffer (see writeChunk). */
export function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(chunkSize(data));
  writeChunk(out, 0, type, data);
  return out;
}
