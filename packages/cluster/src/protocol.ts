/**
 * The wire format. A message is ZeroMQ frames `[signature, header, ...body]`:
 * the header is msgpack (type, sender session, sequence number, fields); the
 * body holds the values, msgpack with every typed array as its own frame,
 * never copied into the msgpack. The header carries the HMAC-SHA256 of the
 * body (`b`), and the signature is the HMAC of the header: a relay (the
 * controller) checks the small header and forwards the body untouched, and the
 * final receiver checks the body once. Signatures are compared in constant
 * time; a message whose session and sequence number were seen before is a
 * replay and is dropped, as are unsigned and forged ones (and counted).
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { decode, Decoder, encode, Encoder, ExtensionCodec } from "@msgpack/msgpack";

export type Frames = Buffer[];

/** Header fields every message has; the rest depend on its type. */
export interface Header {
  /** Message type. */
  t: string;
  /** Sender's session (random per process and socket) and its sequence number there. */
  s: string;
  q: number;
  /** HMAC of the body frames, when there is a body. */
  b?: Uint8Array;
  [field: string]: unknown;
}

const TYPED = ["Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array", "Int32Array", "Uint32Array", "Float32Array", "Float64Array", "BigInt64Array", "BigUint64Array"] as const;
/** Largest body frame (see the typed-array extension). */
const MAX_FRAME = 8 << 20;
const CONSTRUCTORS: Record<string, any> = { Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array };

/** Values travel as msgpack, with typed arrays as frames (extension 1: [frame index, type]) and errors as extension 2. */
interface Context { frames: Uint8Array[] }
const codec = new ExtensionCodec<Context>();
codec.register({
  type: 1,
  encode(value, ctx) {
    if (!ArrayBuffer.isView(value) || value instanceof DataView) return null;
    const name = value.constructor.name;
    if (!(TYPED as readonly string[]).includes(name)) return null; // Buffer and other subclasses: as bytes
    const bytes = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    const index = ctx.frames.length;
    // Large arrays go as several frames: heartbeats count whole frames, and one that takes longer than
    // their timeout to arrive would get a healthy peer taken for dead.
    for (let at = 0; at < bytes.byteLength || at === 0; at += MAX_FRAME) ctx.frames.push(bytes.subarray(at, at + MAX_FRAME));
    const count = ctx.frames.length - index;
    return encode(count === 1 ? [index, name] : [index, name, count]);
  },
  decode(data, _type, ctx) {
    const [index, name, count = 1] = decode(data) as [number, string, number?];
    const parts = ctx.frames.slice(index, index + count);
    if (parts.length !== count || !Number.isInteger(count) || count < 1) throw new ProtocolError(`a typed array refers to frames ${index}..${index + count - 1}, which the message lacks`);
    const frame = count === 1 ? parts[0] : Buffer.concat(parts);
    const C = CONSTRUCTORS[name];
    if (!C) throw new ProtocolError(`unknown typed array type ${String(name)}`);
    if (frame.byteLength % C.BYTES_PER_ELEMENT) throw new ProtocolError(`a ${name} frame of ${frame.byteLength} bytes`);
    // Received frames usually start aligned (ZeroMQ's own buffers); small ones may not: copy those.
    const bytes = frame.byteOffset % C.BYTES_PER_ELEMENT ? Uint8Array.prototype.slice.call(frame) : frame;
    return new C(bytes.buffer, bytes.byteOffset, bytes.byteLength / C.BYTES_PER_ELEMENT);
  },
});
codec.register({
  type: 2,
  encode(value) {
    if (!(value instanceof Error)) return null;
    return encode({ name: value.name, message: value.message, stack: value.stack });
  },
  decode(data) {
    const o = decode(data) as { name: string; message: string; stack?: string };
    const e = new Error(o.message);
    e.name = o.name;
    e.stack = o.stack;
    return e;
  },
});

// One encoder and decoder each, reused (creating them per message costs more than the coding); their context is set per call.
const valueContext: Context = { frames: [] };
const valueEncoder = new Encoder<Context>({ extensionCodec: codec, context: valueContext, useBigInt64: true });
const valueDecoder = new Decoder<Context>({ extensionCodec: codec, context: valueContext, useBigInt64: true });
const headerEncoder = new Encoder({ useBigInt64: true });
const headerDecoder = new Decoder({ useBigInt64: true });

/** A value as body frames: its msgpack, then its typed arrays. */
export function packValue(value: unknown): Frames {
  valueContext.frames = [];
  const head = Buffer.from(valueEncoder.encode(value)); // a copy: the encoder reuses its buffer
  const frames = valueContext.frames;
  valueContext.frames = [];
  return [head, ...frames.map(toBuffer)];
}

/** The value of body frames (typed arrays are views of the frames, not copies). */
export function unpackValue(body: Frames): unknown {
  if (!body.length) return undefined;
  valueContext.frames = body.slice(1);
  try {
    return valueDecoder.decode(body[0]);
  } catch (e) {
    if (e instanceof ProtocolError) throw e;
    throw new ProtocolError(`the message body is not valid msgpack: ${(e as Error).message}`);
  } finally {
    valueContext.frames = [];
  }
}

const toBuffer = (u: Uint8Array) => (Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength));

export class ProtocolError extends Error {
  override name = "ProtocolError";
}

/** Why messages were dropped, by count. */
export interface Dropped { unsigned: number; forged: number; replayed: number; malformed: number }

/**
 * Signs what a process sends and checks what it receives, with the cluster's
 * key. One per socket: its session names the sender, its sequence numbers
 * only grow.
 */
export class Signer {
  readonly session = randomBytes(8).toString("hex");
  private seq = 0;
  /** The last sequence number seen of each sender (bounded: the oldest senders are forgotten first). */
  private seen = new Map<string, number>();
  readonly dropped: Dropped = { unsigned: 0, forged: 0, replayed: 0, malformed: 0 };

  constructor(private readonly key: Buffer, private readonly maxSenders = 100_000) {}

  private len = Buffer.alloc(4);

  private mac(frames: readonly Uint8Array[]): Buffer {
    const h = createHmac("sha256", this.key);
    const len = this.len;
    for (const f of frames) {
      len.writeUInt32BE(f.byteLength); // lengths too, so frames cannot be re-cut
      h.update(len);
      h.update(f);
    }
    return h.digest();
  }

  /** The frames of a message: signature, header, body. With `digest`, the body was signed by its originator (relaying). */
  seal(fields: { t: string; [k: string]: unknown }, body: Frames = [], digest?: Uint8Array): Frames {
    const header: Header = { ...fields, s: this.session, q: ++this.seq };
    if (body.length) header.b = digest ?? this.mac(body);
    const head = Buffer.from(headerEncoder.encode(header));
    return [this.mac([head]), head, ...body];
  }

  /**
   * The header of received frames (after any routing frames), or undefined when
   * they are unsigned, forged, replayed or malformed (counted in `dropped`).
   * The body is checked too unless `relay` (a relay forwards it with its digest).
   */
  open(frames: Frames, relay = false): { header: Header; body: Frames } | undefined {
    if (frames.length < 2 || frames[0].byteLength !== 32) return void this.dropped.unsigned++;
    const [sig, head, ...body] = frames;
    if (!timingSafeEqual(sig, this.mac([head]))) return void this.dropped.forged++;
    let header: Header;
    try {
      header = headerDecoder.decode(head) as Header;
      if (typeof header?.t !== "string" || typeof header.s !== "string" || typeof header.q !== "number") throw new Error("fields");
    } catch {
      return void this.dropped.malformed++;
    }
    if (body.length && !(header.b instanceof Uint8Array && header.b.byteLength === 32)) return void this.dropped.unsigned++;
    if (!relay && body.length && !timingSafeEqual(header.b!, this.mac(body))) return void this.dropped.forged++;
    const last = this.seen.get(header.s);
    if (last !== undefined && header.q <= last) return void this.dropped.replayed++;
    this.seen.delete(header.s);
    this.seen.set(header.s, header.q);
    if (this.seen.size > this.maxSenders) this.seen.delete(this.seen.keys().next().value!);
    return { header, body };
  }
}

/** A new cluster key. */
export const newKey = () => randomBytes(32);
