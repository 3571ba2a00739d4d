/** The sans-I/O core of the Guacamole WebSocket tunnel (docs: the module comments of each file). */
export {
  BackendOutput,
  type BackendOutputOptions,
  DEFAULT_BATCH_BYTES,
  DOWNLOAD_REFUSED,
  STREAM_INDEX_MIMETYPE,
} from './backend-output.js';
export {
  ClientInput,
  type ClientInputError,
  type ClientInputOptions,
  type ClientInputResult,
  PASTE_REFUSED,
  UPLOAD_REFUSED,
} from './client-input.js';
export {
  type ConnectData,
  DEFAULT_DPI,
  DEFAULT_HEIGHT,
  DEFAULT_IMAGE_TYPES,
  DEFAULT_WIDTH,
  MAX_CONNECT_DATA_LENGTH,
  MAX_DIMENSION,
  MAX_MIMETYPE_LENGTH,
  MAX_MIMETYPES,
  PROTOCOL_VERSION,
  parseConnectData,
} from './connect-data.js';
export {
  CLIENT_TIMEOUT_MESSAGE,
  DEFAULT_CLIENT_TIMEOUT_MS,
  DEFAULT_NOP_INTERVAL_MS,
  Keepalive,
  type KeepaliveAction,
  type KeepaliveOptions,
  type KeepaliveSettings,
  keepaliveAction,
  keepaliveDeadline,
  keepaliveSettings,
  NOP,
} from './keepalive.js';
export {
  countInstructions,
  elementIndex,
  elementIs,
  elementText,
  HEAD_ELEMENTS,
  hasSurrogates,
  InstructionHead,
  scanInstruction,
  streamIndexAt,
} from './scan.js';
export { forbiddenAck, MAX_TRACKED_STREAMS, parseStreamIndex, StreamSet } from './streams.js';
