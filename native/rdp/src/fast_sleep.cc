#include "fast_sleep.h"

#include <pthread.h>
#include <time.h>

#include <atomic>
#include <cerrno>

#include <winpr/synch.h>

namespace gatehouse::rdp {

namespace {

std::atomic<rdpContext*> g_context{nullptr};
pthread_t g_main_thread;

void plain_sleep(DWORD ms) {
  struct timespec ts;
  ts.tv_sec = static_cast<time_t>(ms / 1000);
  ts.tv_nsec = static_cast<long>(ms % 1000) * 1000000L;
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

}  // namespace

void set_fast_sleep_context(rdpContext* context) {
  g_main_thread = pthread_self();
  g_context.store(context);
}

}  // namespace gatehouse::rdp

extern "C" VOID Sleep(DWORD dwMilliseconds) {
  using gatehouse::rdp::g_context;
  rdpContext* context = g_context.load();
  if (context && dwMilliseconds == 100 && pthread_equal(pthread_self(), gatehouse::rdp::g_main_thread)) {
    HANDLE handles[MAXIMUM_WAIT_OBJECTS];
    DWORD n = freerdp_get_event_handles(context, handles, MAXIMUM_WAIT_OBJECTS);
    if (n > 0) {
      WaitForMultipleObjects(n, handles, FALSE, dwMilliseconds);
      return;
    }
  }
  gatehouse::rdp::plain_sleep(dwMilliseconds);
}
