import type { ExecRequest } from "../agent-protocol/messages.js";
import { PyroError } from "../errors/index.js";

/** The environment every guest command starts with (nothing leaks in from the host). */
export const GUEST_WORKDIR = "/workspace";

/**
 * What a sandbox keeps of its environment's container image (the manifest's `image`, read at
 * create and stored in the record, so a later command never depends on the cache): the Env, the
 * WorkingDir and the resolved User that commands run with unless a call overrides them.
 */
export interface GuestImage {
  env: string[];
  working_dir: string | null;
  user: { spec: string; uid: number; gid: number } | null;
}

/**
 * A command's environment: pyro's defaults, then the image's Env over them, then the call's own
 * variables over both. A non-root image user gets USER (when the image names it) and HOME=/
 * unless the image's Env sets them: pyro does not read the guest's /etc/passwd.
 */
export function guestEnv(image: GuestImage | null, extra: Record<string, string> = {}): string[] {
  const env = new Map<string, string>([
    ["PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
    ["HOME", "/root"],
    ["USER", "root"],
    ["LANG", "C.UTF-8"],
    ["TERM", "dumb"],
  ]);
  const user = image?.user ?? null;
  if (user !== null && user.uid !== 0) {
    env.set("HOME", "/");
    const name = user.spec.split(":")[0] ?? "";
    if (/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(name)) env.set("USER", name);
    else env.delete("USER");
  }
  for (const entry of image?.env ?? []) {
    const at = entry.indexOf("=");
    if (at > 0) env.set(entry.slice(0, at), entry.slice(at + 1));
  }
  for (const [key, value] of Object.entries(extra)) env.set(key, value);
  return [...env].map(([key, value]) => `${key}=${value}`);
}

/** The user a command runs as: the image's, when it names one (the agent's, root, otherwise). */
export function guestUser(image: GuestImage | null): Pick<ExecRequest, "user"> {
  const user = image?.user ?? null;
  return user === null ? {} : { user: { uid: user.uid, gid: user.gid } };
}

const MAX_ID = 4_294_967_294; // (uid_t)-1 means "unchanged" to setuid

/**
 * A call's own user (`root`, `UID` or `UID:GID`) as the image user it replaces for that call:
 * numbers only, since the guest's /etc/passwd is not read on the host.
 */
export function userOverride(text: string): NonNullable<GuestImage["user"]> {
  const match = /^(?:(root)|(\d{1,10})(?::(\d{1,10}))?)$/.exec(text);
  const uid = match?.[1] !== undefined ? 0 : Number(match?.[2]);
  const gid = match?.[3] !== undefined ? Number(match[3]) : uid;
  if (match === null || uid > MAX_ID || gid > MAX_ID) {
    throw new PyroError("INVALID_ARGUMENT", `user must be root, UID or UID:GID (numbers up to ${MAX_ID})`);
  }
  return { spec: text, uid, gid };
}
