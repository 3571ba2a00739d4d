// FreeRDP 2's connection and reactivation loops poll the transport and then Sleep(100) between
// PDUs, so an activation of ~10 round trips costs up to a second. This executable defines WinPR's
// Sleep() itself (it interposes the library's, which libfreerdp calls through the PLT): on the main
// thread, while a context is registered, a 100 ms sleep becomes a wait on that context's event
// handles (the socket among them) for at most 100 ms, so the loop continues as soon as data arrives.
// Every other Sleep() sleeps as WinPR's does.
#ifndef GATEHOUSE_RDP_FAST_SLEEP_H_
#define GATEHOUSE_RDP_FAST_SLEEP_H_

#include <freerdp/freerdp.h>

namespace gatehouse::rdp {

// Main thread: registers (or, with null, unregisters) the context whose handles Sleep(100) waits on.
void set_fast_sleep_context(rdpContext* context);

}  // namespace gatehouse::rdp

#endif  // GATEHOUSE_RDP_FAST_SLEEP_H_
