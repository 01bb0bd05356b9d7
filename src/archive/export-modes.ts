/**
 * Modes given to exported files and directories. The guest's bits are kept only where they are
 * safe on the host: never group/other write, setuid, setgid or sticky, and the owner can always
 * read and write (and enter a directory), so an odd guest mode such as 0000 never stops the user,
 * or pyro's own cleanup, from opening or removing the export.
 */
export function exportedFileMode(guestMode: number): number {
  return (guestMode & 0o755) | 0o600;
}

export function exportedDirectoryMode(guestMode: number): number {
  return (guestMode & 0o755) | 0o700;
}
