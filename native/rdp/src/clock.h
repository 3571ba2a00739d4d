// Monotonic milliseconds.
#ifndef GATEHOUSE_RDP_CLOCK_H_
#define GATEHOUSE_RDP_CLOCK_H_

#include <time.h>

#include <cstdint>

namespace gatehouse::rdp {

inline int64_t now_ms() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

}  // namespace gatehouse::rdp

#endif  // GATEHOUSE_RDP_CLOCK_H_
