// Server pointer shapes -> Guacamole `cursor` (drawn into buffer layer -1 first).
#ifndef GATEHOUSE_RDP_CURSOR_H_
#define GATEHOUSE_RDP_CURSOR_H_

#include <freerdp/freerdp.h>

namespace gatehouse::rdp {

// Registers the pointer callbacks (New/Free/Set/SetNull/SetDefault/SetPosition) in PostConnect.
bool register_pointer(rdpContext* context);

}  // namespace gatehouse::rdp

#endif  // GATEHOUSE_RDP_CURSOR_H_
