#include "connect_watch.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "clock.h"
#include "log.h"

namespace gatehouse::rdp {

void shutdown_inet_sockets() {
  DIR* dir = opendir("/proc/self/fd");
  if (!dir) return;
  int self = dirfd(dir);
  while (struct dirent* e = readdir(dir)) {
    int fd = atoi(e->d_name);
    if (fd <= 2 || fd == self) continue;
    struct sockaddr_storage addr;
    socklen_t len = sizeof addr;
    if (getsockname(fd, reinterpret_cast<struct sockaddr*>(&addr), &len) != 0) continue;
    if (addr.ss_family == AF_INET || addr.ss_family == AF_INET6) shutdown(fd, SHUT_RDWR);
  }
  closedir(dir);
}

ConnectWatch::ConnectWatch(int in_fd, int signal_fd, int64_t deadline_ms, freerdp* instance,
                           std::function<void(Reason)> on_stuck)
    : in_fd_(in_fd), signal_fd_(signal_fd), deadline_(deadline_ms), instance_(instance),
      on_stuck_(std::move(on_stuck)) {}

ConnectWatch::~ConnectWatch() {
  stop();
  for (int fd : stop_pipe_) {
    if (fd >= 0) close(fd);
  }
}

bool ConnectWatch::start() {
  if (pipe2(stop_pipe_, O_CLOEXEC) != 0) return false;
  try {
    thread_ = std::thread([this] { run(); });
  } catch (...) {
    return false;
  }
  return true;
}

void ConnectWatch::stop() {
  if (!thread_.joinable()) return;
  char b = 1;
  ssize_t n;
  do n = write(stop_pipe_[1], &b, 1); while (n < 0 && errno == EINTR);
  thread_.join();
}

void ConnectWatch::abort(Reason r) {
  Reason expected = Reason::kNone;
  if (!reason_.compare_exchange_strong(expected, r)) return;
  freerdp_abort_connect(instance_);
  shutdown_inet_sockets();
}

void ConnectWatch::run() {
  char buf[16384];
  int64_t stuck_at = 0;
  for (;;) {
    int64_t now = now_ms();
    int timeout;
    if (reason_.load() != Reason::kNone) {
      if (stuck_at == 0) stuck_at = now + kStuckGraceMs;
      if (now >= stuck_at) {
        log_error("the connection attempt did not stop after being aborted");
        on_stuck_(reason_.load());
        return;
      }
      timeout = static_cast<int>(stuck_at - now);
    } else {
      if (now >= deadline_) {
        abort(Reason::kTimeout);
        continue;
      }
      timeout = static_cast<int>(deadline_ - now);
    }
    bool watching = reason_.load() == Reason::kNone;
    struct pollfd fds[3] = {{stop_pipe_[0], POLLIN, 0},
                            {watching ? in_fd_ : -1, POLLIN, 0},
                            {watching ? signal_fd_ : -1, POLLIN, 0}};
    int rc = poll(fds, 3, timeout);
    if (rc < 0 && errno != EINTR) return;
    if (rc <= 0) continue;
    if (fds[0].revents) return;
    if (fds[2].revents) {
      abort(Reason::kSignal);
      continue;
    }
    if (fds[1].revents) {
      ssize_t n = read(in_fd_, buf, sizeof buf);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        abort(Reason::kInputClosed);
      } else if (n > 0) {
        input_.append(buf, static_cast<size_t>(n));
        if (input_.size() > kMaxBufferedInput) abort(Reason::kInputOverflow);
      }
    }
  }
}

}  // namespace gatehouse::rdp
