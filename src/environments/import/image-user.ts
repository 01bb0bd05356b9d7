import { closeSync, constants, fstatSync, lstatSync, openSync, readSync } from "node:fs";
import { join } from "node:path";
import { PyroError } from "../../errors/index.js";

const MAX_ACCOUNT_FILE_BYTES = 4 * 1024 * 1024;
const MAX_ID = 0xfffffffe;

export interface ImageUser {
  spec: string;
  uid: number;
  gid: number;
}

/**
 * The image config's User ("name", "uid", "name:group", "uid:gid", …) as numbers, looked up in
 * the unpacked tree's /etc/passwd and /etc/group as a container runtime would: a numeric user
 * need not exist (its group is then its passwd group, or 0); a name must. Null when the config
 * names no user (root).
 */
export function resolveImageUser(root: string, spec: string | null | undefined): ImageUser | null {
  if (spec === null || spec === undefined || spec === "") return null;
  const colon = spec.indexOf(":");
  const userPart = colon === -1 ? spec : spec.slice(0, colon);
  const groupPart = colon === -1 ? null : spec.slice(colon + 1);
  const passwd = readAccounts(root, "passwd");

  let uid: number;
  let gid: number;
  const numericUser = numericId(userPart);
  if (numericUser !== null) {
    uid = numericUser;
    gid = numericId(passwd.find((fields) => numericId(fields[2]) === uid)?.[3]) ?? 0;
  } else {
    const entry = passwd.find((fields) => fields[0] === userPart);
    const entryUid = numericId(entry?.[2]);
    if (entry === undefined || entryUid === null) throw unknownAccount("user", userPart, spec, "passwd");
    uid = entryUid;
    gid = numericId(entry[3]) ?? 0;
  }
  if (groupPart !== null && groupPart !== "") {
    const numericGroup = numericId(groupPart);
    if (numericGroup !== null) gid = numericGroup;
    else {
      const group = readAccounts(root, "group").find((fields) => fields[0] === groupPart);
      const groupId = numericId(group?.[2]);
      if (groupId === null) throw unknownAccount("group", groupPart, spec, "group");
      gid = groupId;
    }
  }
  return { spec, uid, gid };
}

function numericId(text: string | undefined): number | null {
  if (text === undefined || !/^\d{1,10}$/.test(text)) return null;
  const value = Number(text);
  return value <= MAX_ID ? value : null;
}

function unknownAccount(kind: string, name: string, spec: string, file: string): PyroError {
  return new PyroError(
    "INVALID_ARGUMENT",
    `The image runs as ${JSON.stringify(spec)}, but its /etc/${file} has no ${kind} ${JSON.stringify(name)}.`,
    {
      hint: `Add the ${kind} to the image, or give its User numerically (uid:gid).`,
      details: { user: spec },
    },
  );
}

/** The lines of /etc/<file> in the tree split into fields; none when it is missing or not a plain file in a real /etc. */
function readAccounts(root: string, file: string): string[][] {
  const text = readPlainFile(root, ["etc", file]);
  if (text === null) return [];
  return text
    .split("\n")
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => line.split(":"));
}

/** A file of the tree read without following a symlink anywhere on its path (bounded). */
function readPlainFile(root: string, segments: string[]): string | null {
  let path = root;
  for (const segment of segments.slice(0, -1)) {
    path = join(path, segment);
    if (!lstatSync(path, { throwIfNoEntry: false })?.isDirectory()) return null;
  }
  let fd: number;
  try {
    fd = openSync(join(path, segments[segments.length - 1] ?? ""), constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return null;
  }
  try {
    const { size } = fstatSync(fd);
    if (!fstatSync(fd).isFile() || size > MAX_ACCOUNT_FILE_BYTES) return null;
    const buffer = Buffer.alloc(size);
    let offset = 0;
    while (offset < size) {
      const read = readSync(fd, buffer, offset, size - offset, offset);
      if (read === 0) break;
      offset += read;
    }
    return buffer.subarray(0, offset).toString("utf8");
  } finally {
    closeSync(fd);
  }
}
