/**
 * Byte-level secret masking for streams. Every byte of every occurrence of a secret value is
 * replaced, overlapping occurrences included; each run of overlapping occurrences becomes one
 * `[secret:NAME]` marker (names joined by ',' when different secrets overlap). Matching is an
 * Aho-Corasick automaton over bytes, so the work is linear in the input whatever the guest sends,
 * and a value split across chunks, frames or UTF-8 characters is caught. Bytes that could still
 * start a value are held back (at most the longest value minus one) until the next byte decides.
 */

/**
 * name → value pairs (a name may repeat, e.g. the same name in two workspaces); values shorter
 * than MIN_MASKED_BYTES are never masked (they would shred ordinary output).
 */
export type SecretValues = Iterable<readonly [string, Buffer]>;
export const MIN_MASKED_BYTES = 4;

interface Automaton {
  /** Per node: byte → child node. */
  children: Array<Map<number, number>>;
  fail: Int32Array;
  depth: Int32Array;
  /** Per node: index into `names` of the longest value ending here (via failure links), or -1. */
  out: Int32Array;
  outLength: Int32Array;
  names: string[];
}

/** The values compiled once, for any number of maskers. */
export class CompiledSecrets {
  private constructor(readonly automaton: Automaton | null) {}

  static of(secrets: SecretValues | CompiledSecrets): CompiledSecrets {
    if (secrets instanceof CompiledSecrets) return secrets;
    const patterns = patternsOf(secrets);
    return new CompiledSecrets(patterns.length === 0 ? null : build(patterns));
  }
}

function build(patterns: Array<readonly [string, Buffer]>): Automaton {
  const children: Array<Map<number, number>> = [new Map()];
  const terminal: number[] = [-1];
  const depthList: number[] = [0];
  const names: string[] = [];
  for (const [name, value] of patterns) {
    let node = 0;
    for (const byte of value) {
      let next = (children[node] as Map<number, number>).get(byte);
      if (next === undefined) {
        next = children.length;
        children.push(new Map());
        terminal.push(-1);
        depthList.push((depthList[node] as number) + 1);
        (children[node] as Map<number, number>).set(byte, next);
      }
      node = next;
    }
    if (terminal[node] === -1) terminal[node] = names.push(name) - 1;
  }
  const size = children.length;
  const fail = new Int32Array(size);
  const out = new Int32Array(size).fill(-1);
  const outLength = new Int32Array(size);
  const depth = Int32Array.from(depthList);
  const queue: number[] = [0];
  for (let head = 0; head < queue.length; head++) {
    const node = queue[head] as number;
    if (terminal[node] !== -1) {
      out[node] = terminal[node] as number;
      outLength[node] = depth[node] as number;
    } else if (node !== 0) {
      out[node] = out[fail[node] as number] as number;
      outLength[node] = outLength[fail[node] as number] as number;
    }
    for (const [byte, child] of children[node] as Map<number, number>) {
      let f = fail[node] as number;
      while (node !== 0 && f !== 0 && !(children[f] as Map<number, number>).has(byte)) f = fail[f] as number;
      const target = node === 0 ? 0 : ((children[f] as Map<number, number>).get(byte) ?? 0);
      fail[child] = target === child ? 0 : target;
      queue.push(child);
    }
  }
  return { children, fail, depth, out, outLength, names };
}

/** The values worth masking, each also without a trailing newline (files often end with one). */
function patternsOf(secrets: SecretValues): Array<readonly [string, Buffer]> {
  const patterns: Array<readonly [string, Buffer]> = [];
  for (const [name, value] of secrets) {
    let end = value.length;
    if (value[end - 1] === 0x0a) end -= value[end - 2] === 0x0d ? 2 : 1;
    const trimmed = value.subarray(0, end);
    for (const candidate of trimmed.length === value.length ? [value] : [value, trimmed]) {
      if (candidate.length >= MIN_MASKED_BYTES) patterns.push([name, candidate]);
    }
  }
  return patterns;
}

const marker = (names: Iterable<string>): Buffer => Buffer.from(`[secret:${[...names].join(",")}]`);

/** One masker per stream: push chunks in order, then flush at the stream's end. */
export class SecretMasker {
  private readonly automaton: Automaton | null;
  private state = 0;
  /** Absolute offset of the next input byte. */
  private position = 0;
  /**
   * Raw input bytes that may still be needed, [heldStart, position), at store[storeAt…] in a
   * reused buffer: they move only when it fills, so a trickling guest costs O(1) a byte.
   */
  private store: Buffer = Buffer.alloc(0);
  private storeAt = 0;
  private heldStart = 0;
  /** Everything before this offset has been emitted, as itself or inside a marker. */
  private emitted = 0;
  /** The run of overlapping matches not yet closed: a later match may still join it. */
  private region: { start: number; end: number; names: Map<string, number> } | null = null;

  constructor(secrets: SecretValues | CompiledSecrets) {
    this.automaton = CompiledSecrets.of(secrets).automaton;
  }

  /** False when there is nothing to mask: callers may pass bytes through untouched. */
  get active(): boolean {
    return this.automaton !== null;
  }

  /**
   * A point to carry the masker across a pause: an open match is closed (its marker comes out with
   * the bytes that are certain), and `pending` is what could still start a value. A new masker fed
   * `pending` first continues where this one is, so a value split by the pause is still masked.
   */
  checkpoint(): { out: Buffer; pending: Buffer } {
    const a = this.automaton;
    if (a === null) return { out: Buffer.alloc(0), pending: Buffer.alloc(0) };
    const pieces: Buffer[] = [];
    if (this.region !== null) this.close(pieces);
    const base = this.heldStart - this.storeAt;
    const from = Math.max(this.emitted, this.position - (a.depth[this.state] as number));
    if (from > this.emitted) pieces.push(this.store.subarray(this.emitted - base, from - base));
    const out = Buffer.concat(pieces);
    const pending = Buffer.from(this.store.subarray(from - base, this.position - base));
    this.emitted = from;
    this.drop(from);
    return { out, pending };
  }

  /** Masked bytes that are certain now; some of `chunk` may come out of a later push or flush. */
  push(chunk: Buffer): Buffer {
    const a = this.automaton;
    if (a === null) return chunk;
    this.append(chunk);
    const buf = this.store;
    const base = this.heldStart - this.storeAt; // buf[p - base] is the byte at absolute offset p
    const from = this.position - base;
    const pieces: Buffer[] = [];
    for (let i = from; i < from + chunk.length; i++) {
      const byte = buf[i] as number;
      let node = this.state;
      for (;;) {
        const next = (a.children[node] as Map<number, number>).get(byte);
        if (next !== undefined) {
          node = next;
          break;
        }
        if (node === 0) break;
        node = a.fail[node] as number;
      }
      this.state = node;
      this.position += 1;
      const length = a.outLength[node] as number;
      if (length > 0) this.match(this.position - length, a.names[a.out[node] as number] as string);
      const region = this.region;
      if (region !== null && this.position - (a.depth[node] as number) >= region.end) this.close(pieces);
    }
    // Raw bytes before anything a future match could cover are final.
    const limit = Math.min(this.region?.start ?? Infinity, this.position - (a.depth[this.state] as number));
    if (limit > this.emitted) {
      pieces.push(buf.subarray(this.emitted - base, limit - base));
      this.emitted = limit;
    }
    // Copied out: the buffer is reused for what comes next.
    const out = Buffer.concat(pieces);
    const keepFrom =
      this.region !== null && this.emitted >= this.region.start ? this.region.end : this.emitted;
    this.drop(keepFrom);
    return out;
  }

  /**
   * The stream ended: what was held back comes out. For a stream cut short (a truncated read),
   * `cut` drops the trailing bytes that could be the start of a value instead of showing them.
   */
  flush(cut = false): Buffer {
    const a = this.automaton;
    if (a === null) return Buffer.alloc(0);
    const pieces: Buffer[] = [];
    if (this.region !== null) this.close(pieces);
    const until = cut ? this.position - (a.depth[this.state] as number) : this.position;
    if (until > this.emitted) {
      const base = this.heldStart - this.storeAt;
      pieces.push(this.store.subarray(this.emitted - base, until - base));
    }
    const out = Buffer.concat(pieces);
    this.state = 0;
    this.heldStart = this.emitted = this.position;
    this.store = Buffer.alloc(0);
    this.storeAt = 0;
    return out;
  }

  /** Appends after the held bytes; they move to the front (or a larger buffer) only when it is full. */
  private append(chunk: Buffer): void {
    const held = this.position - this.heldStart;
    if (this.storeAt + held + chunk.length > this.store.length) {
      const target =
        held + chunk.length > this.store.length / 2
          ? Buffer.allocUnsafe(Math.max(2 * (held + chunk.length), 256))
          : this.store;
      this.store.copy(target, 0, this.storeAt, this.storeAt + held);
      this.store = target;
      this.storeAt = 0;
    }
    chunk.copy(this.store, this.storeAt + held);
  }

  /** Forgets the held bytes before `offset`. */
  private drop(offset: number): void {
    if (offset <= this.heldStart) return;
    this.storeAt += offset - this.heldStart;
    this.heldStart = offset;
  }

  private match(start: number, name: string): void {
    const region = this.region;
    if (region === null) {
      this.region = { start, end: this.position, names: new Map([[name, start]]) };
      return;
    }
    // Still open: a later match joins it (a gap between them is masked too, never shown in part);
    // names whose matches it covers whole give way to it.
    if (start < region.start) region.start = start;
    for (const [other, from] of region.names) if (from >= start) region.names.delete(other);
    region.names.set(name, Math.min(region.names.get(name) ?? start, start));
    region.end = this.position;
  }

  private close(pieces: Buffer[]): void {
    const region = this.region as NonNullable<typeof this.region>;
    const base = this.heldStart - this.storeAt;
    if (region.start > this.emitted)
      pieces.push(this.store.subarray(this.emitted - base, region.start - base));
    pieces.push(marker(region.names.keys()));
    this.emitted = region.end;
    this.region = null;
  }
}

/**
 * Masks a whole buffer (a stream of one chunk). `truncated`: the bytes are a prefix of something
 * longer (a read cut short), so held bytes that could start a value are dropped, not shown in part.
 */
export function maskBytes(data: Buffer, secrets: SecretValues | CompiledSecrets, truncated = false): Buffer {
  const masker = new SecretMasker(secrets);
  return masker.active ? Buffer.concat([masker.push(data), masker.flush(truncated)]) : data;
}

export function maskString(text: string, secrets: SecretValues | CompiledSecrets): string {
  const compiled = CompiledSecrets.of(secrets);
  if (compiled.automaton === null) return text;
  const bytes = Buffer.from(text, "utf8");
  const masked = maskBytes(bytes, compiled);
  return masked.equals(bytes) ? text : masked.toString("utf8");
}

/** Masks every string inside a JSON-like value (results, error details); other values pass through. */
export function maskDeep<T>(value: T, secrets: SecretValues | CompiledSecrets): T {
  const compiled = CompiledSecrets.of(secrets);
  if (compiled.automaton === null) return value;
  const walk = (item: unknown): unknown => {
    if (typeof item === "string") return maskString(item, compiled);
    if (Buffer.isBuffer(item)) return maskBytes(item, compiled);
    if (Array.isArray(item)) return item.map(walk);
    if (item !== null && typeof item === "object") {
      return Object.fromEntries(Object.entries(item).map(([key, inner]) => [key, walk(inner)]));
    }
    return item;
  };
  return walk(value) as T;
}
