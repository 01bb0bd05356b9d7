import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

/** One tar member, written exactly as given (no name checks: these are hostile on purpose). */
export interface Member {
  name: string;
  type?: "file" | "dir" | "symlink" | "hardlink" | "fifo";
  body?: string;
  linkname?: string;
  mode?: number;
}

const TYPE_FLAGS = { file: "0", hardlink: "1", symlink: "2", dir: "5", fifo: "6" } as const;

function field(header: Buffer, offset: number, length: number, value: string): void {
  header.write(value, offset, length, "utf8");
}

function octal(value: number, length: number): string {
  return `${value.toString(8).padStart(length - 1, "0")}\0`;
}

/** A ustar header and body for `member` (names up to 100 bytes). */
function memberBytes(member: Member): Buffer[] {
  const type = member.type ?? "file";
  const body = Buffer.from(member.body ?? "");
  const parts: Buffer[] = [];
  const header = Buffer.alloc(512);
  field(header, 0, 100, member.name.slice(0, 100));
  field(header, 100, 8, octal(member.mode ?? (type === "dir" ? 0o755 : 0o644), 8));
  field(header, 108, 8, octal(0, 8));
  field(header, 116, 8, octal(0, 8));
  field(header, 124, 12, octal(type === "file" ? body.length : 0, 12));
  field(header, 136, 12, octal(1_700_000_000, 12));
  field(header, 156, 1, TYPE_FLAGS[type]);
  field(header, 157, 100, member.linkname ?? "");
  field(header, 257, 6, "ustar\0");
  field(header, 263, 2, "00");
  refreshChecksum(header);
  parts.push(header);
  if (type === "file") parts.push(Buffer.concat([body, Buffer.alloc((512 - (body.length % 512)) % 512)]));
  else parts.push(Buffer.alloc(0));
  return parts;
}

function refreshChecksum(header: Buffer): void {
  header.fill(" ", 148, 156);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8, "ascii");
}

/** A whole tar stream of `members`. */
export function tarOf(members: Member[]): Buffer {
  return Buffer.concat([...members.flatMap(memberBytes), Buffer.alloc(1024)]);
}

export interface LayerSpec {
  tar: Buffer;
  /** Stored gzip-compressed (default) or plain. */
  gzip?: boolean;
  /** Overrides the media type written in the manifest. */
  mediaType?: string;
}

export interface LayoutOptions {
  architecture?: string;
  /** Replaces a layer blob's bytes after its digest was computed (a tampered blob). */
  tamperLayer?: number;
  /** Writes a wrong diff ID for this layer. */
  wrongDiffId?: number;
  /** Tags a nested image index whose one entry claims linux/<this architecture>. */
  indexArchitecture?: string;
}

function sha(bytes: Buffer): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/** Writes an OCI image layout at `dir` holding one image tagged "t" with `layers`. */
export function writeLayout(dir: string, layers: LayerSpec[], options: LayoutOptions = {}): void {
  mkdirSync(join(dir, "blobs", "sha256"), { recursive: true });
  const put = (bytes: Buffer): string => {
    const digest = sha(bytes);
    writeFileSync(join(dir, "blobs", "sha256", digest.slice(7)), bytes);
    return digest;
  };
  const descriptors = layers.map((layer, index) => {
    const gzip = layer.gzip ?? true;
    const bytes = gzip ? gzipSync(layer.tar) : layer.tar;
    const digest = put(bytes);
    if (options.tamperLayer === index) {
      const tampered = Buffer.from(bytes);
      tampered[tampered.length - 1] = (tampered[tampered.length - 1] ?? 0) ^ 0xff;
      writeFileSync(join(dir, "blobs", "sha256", digest.slice(7)), tampered);
    }
    return {
      mediaType:
        layer.mediaType ??
        (gzip ? "application/vnd.oci.image.layer.v1.tar+gzip" : "application/vnd.oci.image.layer.v1.tar"),
      digest,
      size: bytes.length,
    };
  });
  const config = Buffer.from(
    JSON.stringify({
      architecture: options.architecture ?? "amd64",
      os: "linux",
      config: { Env: ["PATH=/bin"] },
      rootfs: {
        type: "layers",
        diff_ids: layers.map((layer, index) =>
          options.wrongDiffId === index ? sha(Buffer.from("x")) : sha(layer.tar),
        ),
      },
    }),
  );
  const configDescriptor = {
    mediaType: "application/vnd.oci.image.config.v1+json",
    digest: put(config),
    size: config.length,
  };
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: configDescriptor,
      layers: descriptors,
    }),
  );
  let tagged = {
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    digest: put(manifest),
    size: manifest.length,
  };
  if (options.indexArchitecture !== undefined) {
    const platform = { os: "linux", architecture: options.indexArchitecture };
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [{ ...tagged, platform }] }));
    tagged = { mediaType: "application/vnd.oci.image.index.v1+json", digest: put(index), size: index.length };
  }
  writeFileSync(
    join(dir, "index.json"),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ ...tagged, annotations: { "org.opencontainers.image.ref.name": "t" } }],
    }),
  );
  writeFileSync(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
}
