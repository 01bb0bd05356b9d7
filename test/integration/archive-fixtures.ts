import { Header, Pax, type types } from "tar";

/** One entry of a hand-built tar, for archives no well-behaved tar would write. */
export interface RawEntry {
  name: string;
  type?: types.EntryTypeName;
  body?: string | Buffer;
  linkpath?: string;
  mode?: number;
}

/** A tar archive built header by header; long or non-ASCII names get a pax header as GNU tar does. */
export function rawTar(entries: RawEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const body = Buffer.from(entry.body ?? "");
    const type = entry.type ?? "File";
    const data = {
      path: entry.name,
      type,
      size: body.length,
      mode: entry.mode ?? (type === "Directory" ? 0o755 : 0o644),
      linkpath: entry.linkpath,
      mtime: new Date(0),
    };
    const header = Buffer.alloc(512);
    if (new Header(data).encode(header, 0)) blocks.push(new Pax(data).encode());
    blocks.push(header, body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

/** A stream of `data` in chunks of `size` bytes, as a guest connection would deliver it. */
export async function* chunked(data: Buffer, size = 4096): AsyncGenerator<Buffer> {
  for (let offset = 0; offset < data.length; offset += size) yield data.subarray(offset, offset + size);
}
