#include "errors.h"

#include <freerdp/error.h>
#include <freerdp/freerdp.h>

#include "status.h"

namespace gatehouse::rdp {

StatusMessage map_connect_error(uint32_t e, bool timed_out) {
  if (timed_out) return {status::kUpstreamTimeout, "Timed out connecting to the RDP server"};
  switch (e) {
    case FREERDP_ERROR_AUTHENTICATION_FAILED:
    case FREERDP_ERROR_CONNECT_ACCESS_DENIED:
    case FREERDP_ERROR_CONNECT_ACCOUNT_DISABLED:
    case FREERDP_ERROR_CONNECT_ACCOUNT_EXPIRED:
    case FREERDP_ERROR_CONNECT_ACCOUNT_LOCKED_OUT:
    case FREERDP_ERROR_CONNECT_ACCOUNT_RESTRICTION:
    case FREERDP_ERROR_CONNECT_CLIENT_REVOKED:
    case FREERDP_ERROR_CONNECT_LOGON_FAILURE:
    case FREERDP_ERROR_CONNECT_LOGON_TYPE_NOT_GRANTED:
    case FREERDP_ERROR_CONNECT_NO_OR_MISSING_CREDENTIALS:
    case FREERDP_ERROR_CONNECT_PASSWORD_CERTAINLY_EXPIRED:
    case FREERDP_ERROR_CONNECT_PASSWORD_EXPIRED:
    case FREERDP_ERROR_CONNECT_PASSWORD_MUST_CHANGE:
    case FREERDP_ERROR_CONNECT_WRONG_PASSWORD:
    case FREERDP_ERROR_INSUFFICIENT_PRIVILEGES:
    case FREERDP_ERROR_SERVER_INSUFFICIENT_PRIVILEGES:
    case FREERDP_ERROR_SERVER_FRESH_CREDENTIALS_REQUIRED:
      return {status::kClientUnauthorized, "Authentication failure"};
    case FREERDP_ERROR_SECURITY_NEGO_CONNECT_FAILED:
      return {status::kClientUnauthorized,
              "Security negotiation failed (wrong credentials, or the server does not offer the "
              "requested security mode)"};
    case FREERDP_ERROR_SERVER_DENIED_CONNECTION:  // guacd counts this as an authentication failure
      return {status::kClientUnauthorized, "The RDP server refused the connection (authentication)"};
    case FREERDP_ERROR_CONNECT_CANCELLED:
    case FREERDP_ERROR_CONNECT_FAILED:
    case FREERDP_ERROR_CONNECT_KDC_UNREACHABLE:
    case FREERDP_ERROR_CONNECT_TRANSPORT_FAILED:
    case FREERDP_ERROR_DNS_ERROR:
    case FREERDP_ERROR_DNS_NAME_NOT_FOUND:
    case FREERDP_ERROR_MCS_CONNECT_INITIAL_ERROR:
    case FREERDP_ERROR_TLS_CONNECT_FAILED:
      return {status::kUpstreamNotFound, "Cannot connect to the RDP server"};
    default:
      return {status::kUpstreamError, "RDP connection failed"};
  }
}

StatusMessage map_disconnect(uint32_t info, uint32_t last_error) {
  switch (info) {
    case 0x0: {  // ERRINFO_SUCCESS: decided by the last error
      if (last_error == FREERDP_ERROR_SUCCESS || last_error == 0) return {status::kSuccess, "Disconnected"};
      StatusMessage m = map_connect_error(last_error, false);
      if (m.status == status::kUpstreamNotFound) return {status::kUpstreamError, "Connection to the RDP server lost"};
      return m;
    }
    case 0x1: return {status::kSessionClosed, "Forcibly disconnected"};
    case 0x2: return {status::kSessionClosed, "Logged off"};
    case 0x3: return {status::kSessionTimeout, "Idle session time limit exceeded"};
    case 0x4: return {status::kSessionClosed, "Active session time limit exceeded"};
    case 0x5: return {status::kSessionConflict, "Disconnected by another connection (logged on elsewhere)"};
    case 0x6:
    case 0x7: return {status::kUpstreamUnavailable, "The RDP server refused the connection"};
    case 0x9: return {status::kClientForbidden, "Insufficient privileges"};
    case 0xA: return {status::kClientForbidden, "Credentials expired"};
    case 0xB: return {status::kSuccess, "Disconnected by the user"};
    case 0xC: return {status::kSuccess, "Logged off by the user"};
    default: return {status::kUpstreamError, "The RDP server ended the session (reason 0x" + [&] {
      char buf[16];
      snprintf(buf, sizeof buf, "%X", info);
      return std::string(buf);
    }() + ")"};
  }
}

}  // namespace gatehouse::rdp
