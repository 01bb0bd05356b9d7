/** Writes guest output to a host stream, pausing the guest while the host stream is full. */
export function forwardTo(stream: NodeJS.WriteStream): (chunk: Buffer) => void | Promise<void> {
  return (chunk) => {
    if (stream.write(chunk)) return;
    return new Promise<void>((resolve) => stream.once("drain", () => resolve()));
  };
}
