/** Guacamole status codes, with the HTTP status and WebSocket close code each maps to. */

export const STATUS = {
  SUCCESS: 0x0000,
  UNSUPPORTED: 0x0100,
  SERVER_ERROR: 0x0200,
  SERVER_BUSY: 0x0201,
  UPSTREAM_TIMEOUT: 0x0202,
  UPSTREAM_ERROR: 0x0203,
  RESOURCE_NOT_FOUND: 0x0204,
  RESOURCE_CONFLICT: 0x0205,
  RESOURCE_CLOSED: 0x0206,
  UPSTREAM_NOT_FOUND: 0x0207,
  UPSTREAM_UNAVAILABLE: 0x0208,
  SESSION_CONFLICT: 0x0209,
  SESSION_TIMEOUT: 0x020a,
  SESSION_CLOSED: 0x020b,
  CLIENT_BAD_REQUEST: 0x0300,
  CLIENT_UNAUTHORIZED: 0x0301,
  CLIENT_FORBIDDEN: 0x0303,
  CLIENT_TIMEOUT: 0x0308,
  CLIENT_OVERRUN: 0x030d,
  CLIENT_BAD_TYPE: 0x030f,
  CLIENT_TOO_MANY: 0x031d,
} as const;

export type StatusName = keyof typeof STATUS;
export type StatusCode = (typeof STATUS)[StatusName];

export interface StatusInfo {
  code: number;
  /** The status name, or 'UNKNOWN' for a code not in the table. */
  name: StatusName | 'UNKNOWN';
  /** HTTP status for the same condition. */
  http: number;
  /** WebSocket close code for a tunnel closed with this status. */
  wsClose: number;
}

/** [HTTP status, WebSocket close code] for every status. */
const MAPPINGS: Record<StatusName, readonly [http: number, wsClose: number]> = {
  SUCCESS: [200, 1000],
  UNSUPPORTED: [501, 1011],
  SERVER_ERROR: [500, 1011],
  SERVER_BUSY: [503, 1008],
  UPSTREAM_TIMEOUT: [504, 1011],
  UPSTREAM_ERROR: [502, 1011],
  RESOURCE_NOT_FOUND: [404, 1002],
  RESOURCE_CONFLICT: [409, 1008],
  RESOURCE_CLOSED: [404, 1002],
  UPSTREAM_NOT_FOUND: [502, 1011],
  UPSTREAM_UNAVAILABLE: [502, 1011],
  SESSION_CONFLICT: [409, 1008],
  SESSION_TIMEOUT: [408, 1002],
  SESSION_CLOSED: [404, 1002],
  CLIENT_BAD_REQUEST: [400, 1002],
  CLIENT_UNAUTHORIZED: [403, 1008],
  CLIENT_FORBIDDEN: [403, 1008],
  CLIENT_TIMEOUT: [408, 1002],
  CLIENT_OVERRUN: [413, 1009],
  CLIENT_BAD_TYPE: [415, 1003],
  CLIENT_TOO_MANY: [429, 1008],
};

/** Every status, in code order. */
export const STATUS_TABLE: readonly Readonly<StatusInfo>[] = Object.freeze(
  (Object.keys(STATUS) as StatusName[]).map((name) => {
    const [http, wsClose] = MAPPINGS[name];
    return Object.freeze({ code: STATUS[name], name, http, wsClose });
  }),
);

const BY_CODE = new Map<number, Readonly<StatusInfo>>(STATUS_TABLE.map((s) => [s.code, s]));
const [UNKNOWN_HTTP, UNKNOWN_WS] = MAPPINGS.SERVER_ERROR;

/** The status for `code`; an unknown code gets name 'UNKNOWN' and SERVER_ERROR's HTTP and close codes. */
export function statusInfo(code: number): StatusInfo {
  const known = BY_CODE.get(code);
  if (known) return { ...known };
  return { code, name: 'UNKNOWN', http: UNKNOWN_HTTP, wsClose: UNKNOWN_WS };
}

/** WebSocket close code for a tunnel closed with status `code`. */
export function wsCloseCodeFor(code: number): number {
  return BY_CODE.get(code)?.wsClose ?? UNKNOWN_WS;
}

/** HTTP status for status `code`. */
export function httpStatusFor(code: number): number {
  return BY_CODE.get(code)?.http ?? UNKNOWN_HTTP;
}

/** Name of status `code`, or 'UNKNOWN'. */
export function statusName(code: number): StatusName | 'UNKNOWN' {
  return BY_CODE.get(code)?.name ?? 'UNKNOWN';
}
