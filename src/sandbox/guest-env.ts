/** The environment every guest command starts with (nothing leaks in from the host). */
export const GUEST_WORKDIR = "/workspace";

export function defaultGuestEnv(extra: Record<string, string> = {}): string[] {
  const env: Record<string, string> = {
    PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    HOME: "/root",
    USER: "root",
    LANG: "C.UTF-8",
    TERM: "dumb",
    ...extra,
  };
  return Object.entries(env).map(([key, value]) => `${key}=${value}`);
}
