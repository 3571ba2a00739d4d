// Watches the client and the clock while freerdp_connect() blocks the main thread: stdin closing, a
// termination signal or the connect deadline abort the connection attempt (freerdp_abort_connect,
// and shutdown() of the process's TCP sockets, which unblocks reads FreeRDP does not interrupt).
// Bytes the client sends meanwhile are kept for the session.
#ifndef GATEHOUSE_RDP_CONNECT_WATCH_H_
#define GATEHOUSE_RDP_CONNECT_WATCH_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>

#include <freerdp/freerdp.h>

namespace gatehouse::rdp {

class ConnectWatch {
 public:
  enum class Reason { kNone, kInputClosed, kSignal, kTimeout, kInputOverflow };
  static constexpr size_t kMaxBufferedInput = 1 << 20;
  static constexpr int kStuckGraceMs = 5000;

  // `on_stuck` runs on the watcher thread when freerdp_connect() has not returned kStuckGraceMs
  // after an abort; it must end the process.
  ConnectWatch(int in_fd, int signal_fd, int64_t deadline_ms, freerdp* instance,
               std::function<void(Reason)> on_stuck);
  ~ConnectWatch();
  bool start();
  void stop();
  Reason reason() const { return reason_.load(); }
  // Input read while connecting (valid after stop()).
  std::string& input() { return input_; }

 private:
  void run();
  void abort(Reason r);

  int in_fd_, signal_fd_;
  int64_t deadline_;
  freerdp* instance_;
  std::function<void(Reason)> on_stuck_;
  int stop_pipe_[2] = {-1, -1};
  std::thread thread_;
  std::atomic<Reason> reason_{Reason::kNone};
  std::string input_;
};

// shutdown(SHUT_RDWR) of every AF_INET/AF_INET6 socket of this process.
void shutdown_inet_sockets();

}  // namespace gatehouse::rdp

#endif  // GATEHOUSE_RDP_CONNECT_WATCH_H_
