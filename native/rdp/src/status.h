// Guacamole status codes (reference section 4).
#ifndef GATEHOUSE_RDP_STATUS_H_
#define GATEHOUSE_RDP_STATUS_H_

namespace gatehouse::rdp::status {

inline constexpr int kSuccess = 0x0000;
inline constexpr int kUnsupported = 0x0100;
inline constexpr int kServerError = 0x0200;
inline constexpr int kServerBusy = 0x0201;
inline constexpr int kUpstreamTimeout = 0x0202;
inline constexpr int kUpstreamError = 0x0203;
inline constexpr int kResourceNotFound = 0x0204;
inline constexpr int kResourceConflict = 0x0205;
inline constexpr int kResourceClosed = 0x0206;
inline constexpr int kUpstreamNotFound = 0x0207;
inline constexpr int kUpstreamUnavailable = 0x0208;
inline constexpr int kSessionConflict = 0x0209;
inline constexpr int kSessionTimeout = 0x020A;
inline constexpr int kSessionClosed = 0x020B;
inline constexpr int kClientBadRequest = 0x0300;
inline constexpr int kClientUnauthorized = 0x0301;
inline constexpr int kClientForbidden = 0x0303;
inline constexpr int kClientTimeout = 0x0308;
inline constexpr int kClientOverrun = 0x030D;
inline constexpr int kClientBadType = 0x030F;
inline constexpr int kClientTooMany = 0x031D;

}  // namespace gatehouse::rdp::status

#endif  // GATEHOUSE_RDP_STATUS_H_
