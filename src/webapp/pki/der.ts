/**
 * A minimal DER reader and writer: enough to build and check a CMS SignedData (RFC 5652) and to take the
 * issuer and serial number out of an X.509 certificate. Bounds-checked: malformed input throws `DerError`
 * and nothing is read past the buffer. Parsing is one level at a time (`children`), never recursive.
 */

export class DerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DerError';
  }
}

/** Universal tags (and the constructed forms used here). */
export const TAG = {
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** A context-specific tag number `n`, constructed (`[n] IMPLICIT`/`EXPLICIT` of a constructed type). */
export const ctx = (n: number): number => 0xa0 | n;

/** One element: its tag byte, its content, and its whole encoding (header + content). */
export interface DerNode {
  tag: number;
  content: Buffer;
  raw: Buffer;
}

function readLength(buf: Buffer, at: number): { length: number; next: number } {
  const first = buf[at];
  if (first === undefined) throw new DerError('truncated length');
  if (first < 0x80) return { length: first, next: at + 1 };
  const count = first & 0x7f;
  if (count === 0) throw new DerError('indefinite length is not DER');
  if (count > 4) throw new DerError('length too large');
  if (at + 1 + count > buf.length) throw new DerError('truncated length');
  let length = 0;
  for (let i = 0; i < count; i++) length = length * 256 + (buf[at + 1 + i] as number);
  return { length, next: at + 1 + count };
}

/** Reads the element starting at `at`; returns it and the offset just after it. */
export function readNode(buf: Buffer, at = 0): { node: DerNode; next: number } {
  const tag = buf[at];
  if (tag === undefined) throw new DerError('truncated element');
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte tags are not supported');
  const { length, next } = readLength(buf, at + 1);
  const end = next + length;
  if (end > buf.length) throw new DerError('element runs past the end of its container');
  return { node: { tag, content: buf.subarray(next, end), raw: buf.subarray(at, end) }, next: end };
}

/** Parses a buffer holding exactly one element. */
export function parseDer(buf: Buffer): DerNode {
  const { node, next } = readNode(buf, 0);
  if (next !== buf.length) throw new DerError('trailing bytes after the element');
  return node;
}

/** The elements inside a constructed element. */
export function children(node: DerNode): DerNode[] {
  if ((node.tag & 0x20) === 0)
    throw new DerError(`element with tag 0x${node.tag.toString(16)} is not constructed`);
  const out: DerNode[] = [];
  let at = 0;
  while (at < node.content.length) {
    const { node: child, next } = readNode(node.content, at);
    out.push(child);
    at = next;
  }
  return out;
}

/** The element itself, after checking it exists and has the expected tag. */
export function expect(node: DerNode | undefined, tag: number, what: string): DerNode {
  if (!node) throw new DerError(`${what} is missing`);
  if (node.tag !== tag)
    throw new DerError(`${what}: expected tag 0x${tag.toString(16)}, got 0x${node.tag.toString(16)}`);
  return node;
}

/** Dotted form of an OBJECT IDENTIFIER's content. */
export function decodeOid(content: Buffer): string {
  if (content.length === 0 || content.length > 64) throw new DerError('bad OID length');
  const parts: number[] = [];
  let value = 0;
  for (const byte of content) {
    value = value * 128 + (byte & 0x7f);
    if (value > Number.MAX_SAFE_INTEGER / 128) throw new DerError('OID arc too large');
    if ((byte & 0x80) === 0) {
      parts.push(value);
      value = 0;
    }
  }
  if ((content[content.length - 1] as number) & 0x80) throw new DerError('truncated OID');
  const first = parts.shift() as number;
  const head = first < 80 ? [Math.floor(first / 40), first % 40] : [2, first - 80];
  return [...head, ...parts].join('.');
}

// ---- writing ----

function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One element from its tag and content (`Buffer`, or a list of already encoded children). */
export function der(tag: number, content: Buffer | readonly Buffer[]): Buffer {
  const body = Buffer.isBuffer(content) ? content : Buffer.concat(content as Buffer[]);
  return Buffer.concat([Buffer.from([tag]), encodeLength(body.length), body]);
}

export const seq = (...items: Buffer[]): Buffer => der(TAG.SEQUENCE, items);

/** A DER SET OF: the encodings sorted (X.690 11.6). */
export function setOf(items: readonly Buffer[], tag: number = TAG.SET): Buffer {
  return der(tag, [...items].sort(Buffer.compare));
}

export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map((a) => Number(a));
  if (arcs.length < 2 || arcs.some((a) => !Number.isSafeInteger(a) || a < 0))
    throw new DerError(`bad OID ${dotted}`);
  const bytes: number[] = [];
  const push = (value: number): void => {
    const chunk = [value & 0x7f];
    for (let v = Math.floor(value / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift(0x80 | (v & 0x7f));
    bytes.push(...chunk);
  };
  push((arcs[0] as number) * 40 + (arcs[1] as number));
  for (const arc of arcs.slice(2)) push(arc);
  return der(TAG.OID, Buffer.from(bytes));
}

export function smallInt(n: number): Buffer {
  if (!Number.isInteger(n) || n < 0 || n > 127) throw new DerError('smallInt takes 0..127');
  return der(TAG.INTEGER, Buffer.from([n]));
}

export const NULL = Buffer.from([TAG.NULL, 0]);
export const octets = (content: Buffer): Buffer => der(TAG.OCTET_STRING, content);
