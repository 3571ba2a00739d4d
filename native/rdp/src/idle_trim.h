// Gives the heap's free pages back to the system once the display has been idle for a second: encoding a
// busy frame leaves a few MB of freed buffers resident, and most sessions at high density sit idle.
// malloc_trim(0) also releases free pages inside the heap (glibc >= 2.8). Not in sanitizer builds (their
// allocator is not glibc's).
#ifndef GATEHOUSE_RDP_IDLE_TRIM_H_
#define GATEHOUSE_RDP_IDLE_TRIM_H_

#include <malloc.h>

#include <cstdint>

namespace gatehouse::rdp {

class IdleTrim {
 public:
  static constexpr int64_t kAfterIdleMs = 1000;

  // A frame was sent: the heap may hold freed encoder buffers again.
  void activity(int64_t now) {
    last_activity_ = now;
    due_ = true;
  }
  // Milliseconds until a trim is due (0: now), or -1 when none is.
  int next_in(int64_t now) const {
    if (!due_) return -1;
    int64_t at = last_activity_ + kAfterIdleMs;
    return at <= now ? 0 : static_cast<int>(at - now);
  }
  // Gives the free pages back (after the caller has freed its own spare buffers); not due again until the
  // next activity.
  void trim() {
    due_ = false;
#ifndef GATEHOUSE_SANITIZE
    malloc_trim(0);
#endif
  }

 private:
  int64_t last_activity_ = 0;
  bool due_ = false;
};

}  // namespace gatehouse::rdp

#endif  // GATEHOUSE_RDP_IDLE_TRIM_H_
