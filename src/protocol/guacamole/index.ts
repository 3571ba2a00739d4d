export {
  codepointLength,
  type ElementValue,
  encodeBlobs,
  encodeInstruction,
  encodeInstructionBytes,
  MAX_BLOB_BYTES,
} from './encoder.js';
export {
  type GuacamoleLimitName,
  GuacamoleProtocolError,
  protocolErrorFromCode,
  ScanErrorCode,
  type ScanErrorName,
} from './errors.js';
export { type Framer, GuacamoleFramer } from './framer.js';
export { DEFAULT_LIMITS, type GuacamoleLimits, resolveLimits } from './limits.js';
export { GuacamoleParser, type Instruction } from './parser.js';
export {
  httpStatusFor,
  STATUS,
  STATUS_TABLE,
  type StatusCode,
  type StatusInfo,
  type StatusName,
  statusInfo,
  statusName,
  wsCloseCodeFor,
} from './status.js';
