/** Wire constants of the agent protocol; see docs/protocol.md. */
export const PROTOCOL_VERSION = 1;
export const HEADER_SIZE = 12;
export const MAX_BODY = 65536;
export const FLAG_END = 0x01;

export const MessageType = {
  HELLO: 0x01,
  HELLO_ACK: 0x02,
  PING: 0x03,
  PONG: 0x04,
  SHUTDOWN: 0x05,
  SHUTDOWN_ACK: 0x06,
  EXEC: 0x10,
  STDIN: 0x11,
  SIGNAL: 0x12,
  RESIZE: 0x13,
  STARTED: 0x20,
  STDOUT: 0x21,
  STDERR: 0x22,
  EXIT: 0x23,
  CONNECT: 0x30,
  CONNECTED: 0x31,
  CLOSED: 0x32,
  ACK: 0x33,
  /** Supervisor-only: a request from a local client to the VM's supervisor (never sent to a guest). */
  CONTROL: 0x60,
  CONTROL_REPLY: 0x61,
  ERROR: 0x7f,
} as const;

export type MessageTypeCode = (typeof MessageType)[keyof typeof MessageType];

const KNOWN_TYPES = new Set<number>(Object.values(MessageType));

export function isKnownType(type: number): type is MessageTypeCode {
  return KNOWN_TYPES.has(type);
}

export const Tag = {
  VERSION: 0x01,
  CLIENT: 0x02,
  AGENT_VERSION: 0x03,
  KERNEL_RELEASE: 0x04,
  MAX_BODY: 0x05,
  MODE: 0x06,
  HOST_TIME_MS: 0x07,
  ARG: 0x10,
  SHELL: 0x11,
  ENV: 0x12,
  CWD: 0x13,
  TIMEOUT_MS: 0x14,
  STDIN: 0x15,
  PTY_COLS: 0x16,
  PTY_ROWS: 0x17,
  SIGNO: 0x20,
  PID: 0x21,
  COLS: 0x22,
  ROWS: 0x23,
  EXIT_CODE: 0x30,
  SIGNAL: 0x31,
  TIMED_OUT: 0x32,
  DURATION_MS: 0x33,
  ERROR_CODE: 0x40,
  ERROR_MESSAGE: 0x41,
  PORT: 0x50,
  CLOSE_ERROR: 0x51,
  ACK_BYTES: 0x52,
} as const;
