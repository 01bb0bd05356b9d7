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
  /** File operations on the workspace (see fs-messages.ts): requests, then the replies. */
  FS_LIST: 0x40,
  FS_READ: 0x41,
  FS_WRITE: 0x42,
  FS_MKDIR: 0x43,
  FS_REMOVE: 0x44,
  FS_RENAME: 0x45,
  FS_CHMOD: 0x46,
  FS_REALPATH: 0x47,
  FS_LINK: 0x48,
  FS_ENTRIES: 0x4c,
  FS_DATA: 0x4d,
  FS_DONE: 0x4e,
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
  PATH: 0x60,
  TARGET: 0x61,
  FILE_MODE: 0x62,
  SCOPE: 0x63,
  MAX_ENTRIES: 0x64,
  OFFSET: 0x65,
  LENGTH: 0x66,
  PARENTS: 0x67,
  RECURSIVE: 0x68,
  HARD: 0x69,
  MTIME_NS: 0x6a,
  DATA: 0x6b,
  SIZE: 0x6c,
  COUNT: 0x6d,
  TRUNCATED: 0x6e,
  NO_FSYNC: 0x6f,
  ENTRY: 0x70,
  /** Fields inside one ENTRY value. */
  E_NAME: 0x71,
  E_TYPE: 0x72,
  E_MODE: 0x73,
  E_SIZE: 0x74,
  E_MTIME_NS: 0x75,
  E_UID: 0x76,
  E_GID: 0x77,
  E_LINK: 0x78,
} as const;
