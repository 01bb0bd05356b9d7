const ROOT_INODE = 2;

/**
 * The inodes in use, from dumpe2fs's full output: the root and every inode from the first
 * non-reserved one on that no group lists as free ("Free inodes: 12-8192, 8200"). The reserved
 * inodes below it (journal, resize) are written by e2fsprogs itself and are left alone.
 */
export function usedInodes(dumpe2fsOutput: string): number[] {
  const inodesPerGroup = headerNumber(dumpe2fsOutput, "Inodes per group");
  const firstInode = headerNumber(dumpe2fsOutput, "First inode");
  const inodeCount = headerNumber(dumpe2fsOutput, "Inode count");
  const freeLists = [...dumpe2fsOutput.matchAll(/^\s+Free inodes: ?(.*)$/gm)].map((match) => match[1] ?? "");
  if (freeLists.length * inodesPerGroup !== inodeCount) {
    throw new Error(
      `dumpe2fs listed free inodes for ${freeLists.length} groups, expected ${inodeCount / inodesPerGroup}`,
    );
  }
  const free = new Uint8Array(inodeCount + 1);
  for (const list of freeLists) {
    for (const range of list
      .split(",")
      .map((part) => part.trim())
      .filter((part) => part !== "")) {
      const match = /^(\d+)(?:-(\d+))?$/.exec(range);
      if (!match) throw new Error(`dumpe2fs printed an unreadable free inode range "${range}"`);
      const start = Number(match[1]);
      const end = Number(match[2] ?? match[1]);
      if (start < 1 || end > inodeCount || start > end)
        throw new Error(`free inode range ${range} out of bounds`);
      free.fill(1, start, end + 1);
    }
  }
  const used = [ROOT_INODE];
  for (let inode = firstInode; inode <= inodeCount; inode += 1) if (free[inode] === 0) used.push(inode);
  return used;
}

function headerNumber(output: string, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+)$`, "m").exec(output);
  const value = Number(match?.[1]);
  if (!match || !Number.isSafeInteger(value) || value < 1) throw new Error(`dumpe2fs printed no "${field}"`);
  return value;
}
