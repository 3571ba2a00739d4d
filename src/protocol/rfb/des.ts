/**
 * DES (FIPS 46-3) block encryption in ECB mode, written from the standard's tables, for RFB's
 * "VNC Authentication" only (Node's OpenSSL 3 has DES in the legacy provider, which is not loaded).
 * Bit-level and unoptimised on purpose: it runs once per connection, on 16 bytes.
 *
 * Tables use the standard's 1-based bit numbering, bit 1 being the most significant bit of byte 0.
 */

const IP = [
  58, 50, 42, 34, 26, 18, 10, 2, 60, 52, 44, 36, 28, 20, 12, 4, 62, 54, 46, 38, 30, 22, 14, 6, 64, 56, 48, 40,
  32, 24, 16, 8, 57, 49, 41, 33, 25, 17, 9, 1, 59, 51, 43, 35, 27, 19, 11, 3, 61, 53, 45, 37, 29, 21, 13, 5,
  63, 55, 47, 39, 31, 23, 15, 7,
];

/** The final permutation is the inverse of IP. */
const FP: number[] = (() => {
  const inv = new Array<number>(64).fill(0);
  IP.forEach((src, i) => {
    inv[src - 1] = i + 1;
  });
  return inv;
})();

/** Expansion E: each 4-bit group of R with its neighbours' edge bits, wrapping around. */
const E: number[] = Array.from({ length: 48 }, (_, i) => {
  const group = Math.floor(i / 6);
  const bit = 4 * group + (i % 6); // 0-based, shifted by one to the left of the group
  return ((bit + 31) % 32) + 1;
});

const P = [
  16, 7, 20, 21, 29, 12, 28, 17, 1, 15, 23, 26, 5, 18, 31, 10, 2, 8, 24, 14, 32, 27, 3, 9, 19, 13, 30, 6, 22,
  11, 4, 25,
];

const PC1 = [
  57, 49, 41, 33, 25, 17, 9, 1, 58, 50, 42, 34, 26, 18, 10, 2, 59, 51, 43, 35, 27, 19, 11, 3, 60, 52, 44, 36,
  63, 55, 47, 39, 31, 23, 15, 7, 62, 54, 46, 38, 30, 22, 14, 6, 61, 53, 45, 37, 29, 21, 13, 5, 28, 20, 12, 4,
];

const PC2 = [
  14, 17, 11, 24, 1, 5, 3, 28, 15, 6, 21, 10, 23, 19, 12, 4, 26, 8, 16, 7, 27, 20, 13, 2, 41, 52, 31, 37, 47,
  55, 30, 40, 51, 45, 33, 48, 44, 49, 39, 56, 34, 53, 46, 42, 50, 36, 29, 32,
];

const SHIFTS = [1, 1, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 1];

/** S-boxes S1..S8, each 4 rows of 16, indexed [row * 16 + column]. */
export const S_BOXES: readonly (readonly number[])[] = [
  [
    14, 4, 13, 1, 2, 15, 11, 8, 3, 10, 6, 12, 5, 9, 0, 7, 0, 15, 7, 4, 14, 2, 13, 1, 10, 6, 12, 11, 9, 5, 3,
    8, 4, 1, 14, 8, 13, 6, 2, 11, 15, 12, 9, 7, 3, 10, 5, 0, 15, 12, 8, 2, 4, 9, 1, 7, 5, 11, 3, 14, 10, 0, 6,
    13,
  ],
  [
    15, 1, 8, 14, 6, 11, 3, 4, 9, 7, 2, 13, 12, 0, 5, 10, 3, 13, 4, 7, 15, 2, 8, 14, 12, 0, 1, 10, 6, 9, 11,
    5, 0, 14, 7, 11, 10, 4, 13, 1, 5, 8, 12, 6, 9, 3, 2, 15, 13, 8, 10, 1, 3, 15, 4, 2, 11, 6, 7, 12, 0, 5,
    14, 9,
  ],
  [
    10, 0, 9, 14, 6, 3, 15, 5, 1, 13, 12, 7, 11, 4, 2, 8, 13, 7, 0, 9, 3, 4, 6, 10, 2, 8, 5, 14, 12, 11, 15,
    1, 13, 6, 4, 9, 8, 15, 3, 0, 11, 1, 2, 12, 5, 10, 14, 7, 1, 10, 13, 0, 6, 9, 8, 7, 4, 15, 14, 3, 11, 5, 2,
    12,
  ],
  [
    7, 13, 14, 3, 0, 6, 9, 10, 1, 2, 8, 5, 11, 12, 4, 15, 13, 8, 11, 5, 6, 15, 0, 3, 4, 7, 2, 12, 1, 10, 14,
    9, 10, 6, 9, 0, 12, 11, 7, 13, 15, 1, 3, 14, 5, 2, 8, 4, 3, 15, 0, 6, 10, 1, 13, 8, 9, 4, 5, 11, 12, 7, 2,
    14,
  ],
  [
    2, 12, 4, 1, 7, 10, 11, 6, 8, 5, 3, 15, 13, 0, 14, 9, 14, 11, 2, 12, 4, 7, 13, 1, 5, 0, 15, 10, 3, 9, 8,
    6, 4, 2, 1, 11, 10, 13, 7, 8, 15, 9, 12, 5, 6, 3, 0, 14, 11, 8, 12, 7, 1, 14, 2, 13, 6, 15, 0, 9, 10, 4,
    5, 3,
  ],
  [
    12, 1, 10, 15, 9, 2, 6, 8, 0, 13, 3, 4, 14, 7, 5, 11, 10, 15, 4, 2, 7, 12, 9, 5, 6, 1, 13, 14, 0, 11, 3,
    8, 9, 14, 15, 5, 2, 8, 12, 3, 7, 0, 4, 10, 1, 13, 11, 6, 4, 3, 2, 12, 9, 5, 15, 10, 11, 14, 1, 7, 6, 0, 8,
    13,
  ],
  [
    4, 11, 2, 14, 15, 0, 8, 13, 3, 12, 9, 7, 5, 10, 6, 1, 13, 0, 11, 7, 4, 9, 1, 10, 14, 3, 5, 12, 2, 15, 8,
    6, 1, 4, 11, 13, 12, 3, 7, 14, 10, 15, 6, 8, 0, 5, 9, 2, 6, 11, 13, 8, 1, 4, 10, 7, 9, 5, 0, 15, 14, 2, 3,
    12,
  ],
  [
    13, 2, 8, 4, 6, 15, 11, 1, 10, 9, 3, 14, 5, 0, 12, 7, 1, 15, 13, 8, 10, 3, 7, 4, 12, 5, 6, 11, 0, 14, 9,
    2, 7, 11, 4, 1, 9, 12, 14, 2, 0, 6, 10, 13, 15, 3, 5, 8, 2, 1, 14, 7, 4, 10, 8, 13, 15, 12, 9, 0, 3, 5, 6,
    11,
  ],
];

type Bits = Uint8Array; // one bit (0/1) per element

function toBits(bytes: Uint8Array): Bits {
  const out = new Uint8Array(bytes.length * 8);
  for (let i = 0; i < out.length; i++) out[i] = ((bytes[i >> 3] as number) >> (7 - (i & 7))) & 1;
  return out;
}

function fromBits(bits: Bits): Uint8Array {
  const out = new Uint8Array(bits.length >> 3);
  for (let i = 0; i < bits.length; i++) {
    out[i >> 3] = (out[i >> 3] as number) | ((bits[i] as number) << (7 - (i & 7)));
  }
  return out;
}

function permute(bits: Bits, table: readonly number[]): Bits {
  const out = new Uint8Array(table.length);
  for (let i = 0; i < table.length; i++) out[i] = bits[(table[i] as number) - 1] as number;
  return out;
}

function rotateLeft(half: Bits, n: number): Bits {
  const out = new Uint8Array(half.length);
  for (let i = 0; i < half.length; i++) out[i] = half[(i + n) % half.length] as number;
  return out;
}

/** The 16 round keys (48 bits each) for an 8-byte key; parity bits are ignored. */
export function desKeySchedule(key: Uint8Array): Bits[] {
  if (key.length !== 8) throw new RangeError(`DES key must be 8 bytes, got ${key.length}`);
  const k = permute(toBits(key), PC1);
  let c = k.subarray(0, 28) as Bits;
  let d = k.subarray(28, 56) as Bits;
  const keys: Bits[] = [];
  for (const s of SHIFTS) {
    c = rotateLeft(c, s);
    d = rotateLeft(d, s);
    const cd = new Uint8Array(56);
    cd.set(c, 0);
    cd.set(d, 28);
    keys.push(permute(cd, PC2));
  }
  return keys;
}

/** The cipher function f(R, K). */
function feistel(r: Bits, k: Bits): Bits {
  const x = permute(r, E);
  for (let i = 0; i < 48; i++) x[i] = (x[i] as number) ^ (k[i] as number);
  const s = new Uint8Array(32);
  for (let box = 0; box < 8; box++) {
    const b = x.subarray(box * 6, box * 6 + 6);
    const row = ((b[0] as number) << 1) | (b[5] as number);
    const col =
      ((b[1] as number) << 3) | ((b[2] as number) << 2) | ((b[3] as number) << 1) | (b[4] as number);
    const v = (S_BOXES[box] as readonly number[])[row * 16 + col] as number;
    for (let j = 0; j < 4; j++) s[box * 4 + j] = (v >> (3 - j)) & 1;
  }
  return permute(s, P);
}

function cryptBlock(block: Uint8Array, keys: Bits[]): Uint8Array {
  const b = permute(toBits(block), IP);
  let l = b.subarray(0, 32) as Bits;
  let r = b.subarray(32, 64) as Bits;
  for (const k of keys) {
    const f = feistel(r, k);
    const next = new Uint8Array(32);
    for (let i = 0; i < 32; i++) next[i] = (l[i] as number) ^ (f[i] as number);
    l = r;
    r = next;
  }
  const pre = new Uint8Array(64); // R16 L16: the halves are swapped before the final permutation
  pre.set(r, 0);
  pre.set(l, 32);
  return fromBits(permute(pre, FP));
}

/** DES-ECB encryption of `data` (a multiple of 8 bytes) with an 8-byte key. */
export function desEncryptEcb(key: Uint8Array, data: Uint8Array): Uint8Array {
  if (data.length % 8 !== 0)
    throw new RangeError(`DES-ECB data must be a multiple of 8 bytes, got ${data.length}`);
  const keys = desKeySchedule(key);
  const out = new Uint8Array(data.length);
  for (let o = 0; o < data.length; o += 8) out.set(cryptBlock(data.subarray(o, o + 8), keys), o);
  return out;
}

/** DES-ECB decryption (the same network with the round keys in reverse order). */
export function desDecryptEcb(key: Uint8Array, data: Uint8Array): Uint8Array {
  if (data.length % 8 !== 0)
    throw new RangeError(`DES-ECB data must be a multiple of 8 bytes, got ${data.length}`);
  const keys = desKeySchedule(key).reverse();
  const out = new Uint8Array(data.length);
  for (let o = 0; o < data.length; o += 8) out.set(cryptBlock(data.subarray(o, o + 8), keys), o);
  return out;
}

function reverseBits(b: number): number {
  let r = 0;
  for (let i = 0; i < 8; i++) r |= ((b >> i) & 1) << (7 - i);
  return r;
}

/**
 * The key VNC Authentication derives from a password: the first 8 bytes of its UTF-8 encoding (what
 * vncpasswd stores when typed in a UTF-8 terminal), zero-padded, each byte's bit order reversed (RFB's
 * historical quirk).
 */
export function vncAuthKey(password: string): Uint8Array {
  const bytes = new TextEncoder().encode(password);
  const key = new Uint8Array(8);
  for (let i = 0; i < 8 && i < bytes.length; i++) key[i] = reverseBits(bytes[i] as number);
  return key;
}

/** VNC Authentication: the 16-byte response to the server's 16-byte challenge. */
export function vncAuthResponse(password: string, challenge: Uint8Array): Uint8Array {
  if (challenge.length !== 16)
    throw new RangeError(`VNC challenge must be 16 bytes, got ${challenge.length}`);
  return desEncryptEcb(vncAuthKey(password), challenge);
}
