/**
 * The value codec: a whole value to bytes and back, exactly. Used for messages, replies, thunk
 * arguments, and for the leaves of the state tree.
 *
 * A small tagged binary format (one tag byte, then the payload), written by hand rather than taken
 * from MessagePack or CBOR because those lose part of what a JavaScript value is (-0 becomes 0,
 * `undefined` in arrays, lone surrogates, null-prototype objects, Buffer vs Uint8Array, invalid
 * Dates, arbitrary-size BigInt), and would silently turn class instances into plain objects.
 *
 * ```
 * 0x00 undefined   0x01 null   0x02 false   0x03 true
 * 0x04 int32       zigzag varint (every int32 except -0)
 * 0x05 float64     8 bytes little-endian (-0, NaN, ±Infinity, fractions, large integers)
 * 0x06 string      varint byte length, UTF-8
 * 0x07 string      varint code-unit count, UTF-16LE (only for strings with lone surrogates)
 * 0x08 bigint      sign byte (0 or 1), varint length, big-endian magnitude
 * 0x09 Date        float64 of getTime() (NaN for an invalid Date)
 * 0x0a Uint8Array  varint length, bytes
 * 0x0b Buffer      varint length, bytes
 * 0x10 array       varint length, elements (holes are written as undefined)
 * 0x11 object      varint count, then key (a string value) and value, in Object.keys order
 * 0x12 object      the same, with a null prototype
 * 0x13 Map         varint size, then key and value, in iteration order
 * 0x14 Set         varint size, then items, in iteration order
 * ```
 * Varints are unsigned LEB128. New tags may be added; existing ones never change meaning.
 * @internal
 */
import { CorruptDataError } from './errors.js';
import { withSegment } from './path.js';
import { Kind, MAX_DEPTH, classify, describeFailure, enterContainer, validateValue } from './classify.js';

export { validateValue };

export const Tag = {
  Undefined: 0x00,
  Null: 0x01,
  False: 0x02,
  True: 0x03,
  Int: 0x04,
  Float: 0x05,
  String: 0x06,
  String16: 0x07,
  BigInt: 0x08,
  Date: 0x09,
  Uint8Array: 0x0a,
  Buffer: 0x0b,
  Array: 0x10,
  Object: 0x11,
  NullObject: 0x12,
  Map: 0x13,
  Set: 0x14,
} as const;

/** The highest tag the codec writes; state-tree node tags start above it. */
export const MAX_CODEC_TAG = 0x2f;

// String.prototype.isWellFormed exists from Node 20 (ES2024); the lib here is ES2023.
const isWellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed();

/** A growable output buffer. */
class Writer {
  buf: Buffer;
  pos = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  varint(n: number): void {
    this.ensure(10);
    while (n >= 0x80) {
      this.buf[this.pos++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.buf[this.pos++] = n;
  }

  float(tag: number, n: number): void {
    this.ensure(9);
    this.buf[this.pos++] = tag;
    this.buf.writeDoubleLE(n, this.pos);
    this.pos += 8;
  }

  bytes(tag: number, b: Uint8Array): void {
    this.byte(tag);
    this.varint(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  string(s: string): void {
    const len = s.length;
    if (len <= 42) {
      // short strings: ASCII by hand, the length fits one varint byte written before the text
      this.ensure(2 + len * 3);
      const buf = this.buf;
      const start = this.pos;
      let i = 0;
      for (; i < len; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[start + 2 + i] = c;
      }
      if (i === len) {
        buf[start] = Tag.String;
        buf[start + 1] = len;
        this.pos = start + 2 + len;
        return;
      }
      if (isWellFormed(s)) {
        buf[start] = Tag.String;
        const n = buf.write(s, start + 2, 'utf8'); // at most 126 bytes
        buf[start + 1] = n;
        this.pos = start + 2 + n;
        return;
      }
    } else if (isWellFormed(s)) {
      const n = Buffer.byteLength(s, 'utf8');
      this.byte(Tag.String);
      this.varint(n);
      this.ensure(n);
      this.pos += this.buf.write(s, this.pos, 'utf8');
      return;
    }
    this.byte(Tag.String16);
    this.varint(len);
    this.ensure(len * 2);
    this.pos += this.buf.write(s, this.pos, 'utf16le');
  }

  bigint(v: bigint): void {
    const negative = v < 0n;
    let hex = (negative ? -v : v).toString(16);
    if (hex.length % 2 === 1) hex = `0${hex}`;
    this.byte(Tag.BigInt);
    this.byte(negative ? 1 : 0);
    this.bytes0(Buffer.from(hex === '00' ? '' : hex, 'hex'));
  }

  /** Length-prefixed bytes without a tag. */
  bytes0(b: Uint8Array): void {
    this.varint(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  result(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }
}

/** Writes a leaf (a non-container kind) without any check. */
function writeLeaf(w: Writer, v: unknown, kind: Kind): void {
  switch (kind) {
    case Kind.Undefined:
      return w.byte(Tag.Undefined);
    case Kind.Null:
      return w.byte(Tag.Null);
    case Kind.Boolean:
      return w.byte(v ? Tag.True : Tag.False);
    case Kind.Number: {
      const n = v as number;
      if ((n | 0) === n && !Object.is(n, -0)) {
        w.byte(Tag.Int);
        w.varint(((n << 1) ^ (n >> 31)) >>> 0);
      } else w.float(Tag.Float, n);
      return;
    }
    case Kind.String:
      return w.string(v as string);
    case Kind.BigInt:
      return w.bigint(v as bigint);
    case Kind.Date:
      return w.float(Tag.Date, (v as Date).getTime());
    case Kind.Uint8Array:
      return w.bytes(Tag.Uint8Array, v as Uint8Array);
    case Kind.Buffer:
      return w.bytes(Tag.Buffer, v as Buffer);
  }
}

function write(w: Writer, v: unknown, depth: number, stack: unknown[]): void {
  const kind = classify(v);
  if (kind < Kind.Object) return writeLeaf(w, v, kind);
  enterContainer(v, depth, stack);
  const d = depth + 1;
  switch (kind) {
    case Kind.Array: {
      const a = v as unknown[];
      w.byte(Tag.Array);
      w.varint(a.length);
      let i = 0;
      try {
        for (; i < a.length; i++) write(w, a[i], d, stack);
      } catch (e) {
        withSegment(e, { kind: 'index', index: i });
      }
      return;
    }
    case Kind.Object:
    case Kind.NullObject: {
      const o = v as Record<string, unknown>;
      const keys = Object.keys(o);
      w.byte(kind === Kind.Object ? Tag.Object : Tag.NullObject);
      w.varint(keys.length);
      let i = 0;
      try {
        for (; i < keys.length; i++) {
          w.string(keys[i]!);
          write(w, o[keys[i]!], d, stack);
        }
      } catch (e) {
        withSegment(e, { kind: 'field', name: keys[i]! });
      }
      return;
    }
    case Kind.Map: {
      const m = v as Map<unknown, unknown>;
      w.byte(Tag.Map);
      w.varint(m.size);
      let position = 0;
      let key: unknown;
      let onKey = false;
      try {
        for (const [k, value] of m) {
          key = k;
          onKey = true;
          write(w, k, d, stack);
          onKey = false;
          write(w, value, d, stack);
          position++;
        }
      } catch (e) {
        withSegment(e, onKey ? { kind: 'mapKey', position } : { kind: 'mapValue', key, position });
      }
      return;
    }
    case Kind.Set: {
      const s = v as Set<unknown>;
      w.byte(Tag.Set);
      w.varint(s.size);
      let position = 0;
      try {
        for (const item of s) {
          write(w, item, d, stack);
          position++;
        }
      } catch (e) {
        withSegment(e, { kind: 'setItem', position });
      }
      return;
    }
  }
}

let scratch: Writer | undefined = new Writer(4096);

/**
 * Encodes a whole value to bytes that {@link decodeValue} turns back into an equal value: same
 * types (Buffer stays Buffer, Uint8Array stays Uint8Array, null-prototype objects keep theirs),
 * same numbers (-0, NaN, ±Infinity), same Map/Set/object key order. Array holes come back as
 * `undefined`; shared references come back as separate copies. Validates as it goes and throws
 * {@link UnserializableValueError} (with a path under `rootName`) for anything it cannot store.
 *
 * @example
 * ```ts
 * const bytes = encodeValue({ at: new Date(0), tags: new Set(['a']), n: -0 });
 * decodeValue(bytes); // { at: Date(0), tags: Set {'a'}, n: -0 }
 * ```
 * @internal
 */
export function encodeValue(v: unknown, rootName = 'value'): Buffer {
  // one reusable buffer, unless a getter calls encodeValue while it is in use
  const w = scratch ?? new Writer(256);
  scratch = undefined;
  w.pos = 0;
  try {
    write(w, v, 0, []);
    return w.result();
  } catch (e) {
    throw describeFailure(e, v, rootName);
  } finally {
    if (w.buf.length <= 1 << 20) scratch = w;
  }
}

/** Encodes a leaf (kind below {@link Kind.Object}) to bytes. @internal */
export function encodeLeaf(v: unknown, kind: Kind): Buffer {
  const w = new Writer(kind === Kind.String ? (v as string).length * 3 + 10 : kind === Kind.Uint8Array || kind === Kind.Buffer ? (v as Uint8Array).length + 10 : 16);
  writeLeaf(w, v, kind);
  return w.pos === w.buf.length ? w.buf : w.buf.subarray(0, w.pos);
}

/** Reads one encoded value from a byte string. */
class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}

  fail(what: string): never {
    throw new CorruptDataError(`Cannot decode value: ${what} at byte ${this.pos} of ${this.buf.length}`);
  }

  need(n: number): void {
    if (this.pos + n > this.buf.length) this.fail('truncated input');
  }

  byte(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  varint(): number {
    let n = 0;
    let scale = 1;
    for (;;) {
      const b = this.byte();
      n += (b & 0x7f) * scale;
      if (b < 0x80) return n;
      scale *= 0x80;
      if (scale > 2 ** 49) this.fail('varint too long');
    }
  }

  float(): number {
    this.need(8);
    const n = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return n;
  }

  slice(n: number): Buffer {
    this.need(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  string(): string {
    const tag = this.byte();
    if (tag === Tag.String) {
      const n = this.varint();
      this.need(n);
      const buf = this.buf;
      const start = this.pos;
      this.pos += n;
      if (n <= 24) {
        // short ASCII by hand: cheaper than a call into the UTF-8 decoder
        let out = '';
        for (let i = start; i < start + n; i++) {
          const c = buf[i]!;
          if (c >= 0x80) return buf.toString('utf8', start, start + n);
          out += String.fromCharCode(c);
        }
        return out;
      }
      return buf.toString('utf8', start, start + n);
    }
    if (tag === Tag.String16) {
      const n = this.varint() * 2;
      this.need(n);
      const s = this.buf.toString('utf16le', this.pos, this.pos + n);
      this.pos += n;
      return s;
    }
    return this.fail(`expected a string, found tag ${tag}`);
  }

  value(depth: number): unknown {
    const tag = this.buf[this.pos];
    if (tag === Tag.String || tag === Tag.String16) return this.string();
    this.pos++;
    switch (tag) {
      case Tag.Undefined:
        return undefined;
      case Tag.Null:
        return null;
      case Tag.False:
        return false;
      case Tag.True:
        return true;
      case Tag.Int: {
        const z = this.varint();
        return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
      }
      case Tag.Float:
        return this.float();
      case Tag.BigInt: {
        const negative = this.byte() === 1;
        const hex = this.slice(this.varint()).toString('hex');
        const n = hex === '' ? 0n : BigInt(`0x${hex}`);
        return negative ? -n : n;
      }
      case Tag.Date:
        return new Date(this.float());
      case Tag.Uint8Array:
        return new Uint8Array(this.slice(this.varint()));
      case Tag.Buffer:
        return Buffer.from(this.slice(this.varint()));
    }
    if (depth >= MAX_DEPTH) this.fail(`nested deeper than ${MAX_DEPTH} levels`);
    const d = depth + 1;
    switch (tag) {
      case Tag.Array: {
        const n = this.varint();
        if (n > this.buf.length - this.pos) this.fail('array longer than its input');
        const a = new Array<unknown>(n);
        for (let i = 0; i < n; i++) a[i] = this.value(d);
        return a;
      }
      case Tag.Object:
      case Tag.NullObject: {
        const n = this.varint();
        const o: Record<string, unknown> = tag === Tag.Object ? {} : Object.create(null);
        for (let i = 0; i < n; i++) setField(o, this.string(), this.value(d));
        return o;
      }
      case Tag.Map: {
        const n = this.varint();
        const m = new Map<unknown, unknown>();
        for (let i = 0; i < n; i++) {
          const k = this.value(d);
          m.set(k, this.value(d));
        }
        return m;
      }
      case Tag.Set: {
        const n = this.varint();
        const s = new Set<unknown>();
        for (let i = 0; i < n; i++) s.add(this.value(d));
        return s;
      }
    }
    return this.fail(tag === undefined ? 'truncated input' : `unknown tag ${tag}`);
  }
}

/** `o[k] = v`, also for the key `__proto__`, which must stay an own field. @internal */
export function setField(o: Record<string, unknown>, k: string, v: unknown): void {
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
  else o[k] = v;
}

/**
 * Decodes bytes written by {@link encodeValue}. Throws {@link CorruptDataError} when they are not
 * exactly one encoded value. The result shares no memory with `bytes`.
 *
 * @example
 * ```ts
 * decodeValue(encodeValue(new Map([[1n, new Set(['a'])]]))); // Map { 1n => Set { 'a' } }
 * ```
 * @internal
 */
export function decodeValue(bytes: Uint8Array): unknown {
  const r = new Reader(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length));
  const v = r.value(0);
  if (r.pos !== r.buf.length) r.fail('trailing bytes');
  return v;
}
