// FreeRDP failures and server disconnect reasons -> Guacamole statuses, as guacd maps them
// (authentication 0x0301, unreachable 0x0207, timeout 0x0202, idle timeout 0x020A, logged on
// elsewhere 0x0209, the rest 0x0203/0x0200).
#ifndef GATEHOUSE_RDP_ERRORS_H_
#define GATEHOUSE_RDP_ERRORS_H_

#include <cstdint>
#include <string>

namespace gatehouse::rdp {

struct StatusMessage {
  int status;
  std::string message;
};

// A failed freerdp_connect(): from freerdp_get_last_error() (and whether the connect timeout ran out).
StatusMessage map_connect_error(uint32_t last_error, bool timed_out);
// The end of an established session: from freerdp_error_info() (the server's reason) and
// freerdp_get_last_error(). status 0 means a normal end.
StatusMessage map_disconnect(uint32_t error_info, uint32_t last_error);

}  // namespace gatehouse::rdp

#endif  // GATEHOUSE_RDP_ERRORS_H_
