// gatehouse-rdp: the RDP engine, one process per session.
//
//   gatehouse-rdp [--memory-limit-mb N] [--log-level error|warn|info|debug]
//
// --memory-limit-mb N: setrlimit(RLIMIT_AS) to the address space mapped at start-up (the shared
// libraries) plus N MiB.
// Speaks the Guacamole protocol as guacd's server side: instructions from the client on stdin, to the
// client on stdout; JSON log lines on stderr. select,rdp -> args -> size/audio/video/image/timezone/
// name -> connect -> (RDP connection) -> ready -> session. Exits 0 after a normal end (the client
// disconnected or closed stdin, SIGTERM, the server ended the session normally); after a failure it
// sends error,<message>,<status> and exits 1. Usage errors exit 2.
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include <freerdp/primitives.h>

#include "clock.h"
#include "handshake.h"
#include "log.h"
#include "params.h"
#include "session.h"
#include "status.h"

using namespace gatehouse::rdp;

namespace {

int g_signal_pipe[2] = {-1, -1};
volatile int g_signals = 0;  // written only by the signal handler
int g_out_fd = -1;
std::string g_config_dir;

volatile int64_t g_first_signal_ms = 0;

void on_signal(int) {
  int saved = errno;
  int64_t now = now_ms();  // clock_gettime: async-signal-safe
  if (g_signals == 0) g_first_signal_ms = now;
  // A second signal at least 2 s after the first (not the same kill sent to the group and the
  // process at once): stop waiting for the cleanup.
  if (++g_signals > 1 && now - g_first_signal_ms >= 2000) _exit(143);
  char b = 1;
  ssize_t n = write(g_signal_pipe[1], &b, 1);
  (void)n;
  errno = saved;
}

void remove_config_dir() {
  if (g_config_dir.empty()) return;
  std::error_code ec;
  // Kept: a reconnect (resize-method=reconnect) makes FreeRDP create it again, and it goes again.
  std::filesystem::remove_all(g_config_dir, ec);
}

// Bytes of address space mapped now (VmSize), from /proc/self/statm.
rlim_t startup_address_space() {
  FILE* f = fopen("/proc/self/statm", "r");
  if (!f) return 0;
  unsigned long pages = 0;
  if (fscanf(f, "%lu", &pages) != 1) pages = 0;
  fclose(f);
  return static_cast<rlim_t>(pages) * static_cast<rlim_t>(sysconf(_SC_PAGESIZE));
}

int usage(const char* why) {
  if (why) log_error(why);
  fprintf(stderr, "usage: gatehouse-rdp [--memory-limit-mb N] [--log-level error|warn|info|debug]\n");
  return 2;
}

// Sends error,<message>,<status> straight to the output fd (used before the writer exists and from
// the connect watcher when FreeRDP is stuck).
void write_error_now(int st, const std::string& message) {
  std::string e = encode_instruction({"error", sanitize_utf8(message), std::to_string(st)});
  size_t off = 0;
  while (off < e.size()) {
    ssize_t n = write(g_out_fd, e.data() + off, e.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
}

// The handshake: until `connect` (kConnect), a failure (error sent), EOF or a signal.
enum class HandshakeEnd { kConnect, kFailed, kClosed };

HandshakeEnd run_handshake(Handshake* hs, GuacReader* reader, GuacWriter* out,
                           std::vector<Instruction>* rest, bool* malformed_rest) {
  char buf[16384];
  int64_t deadline = now_ms() + kHandshakeStepTimeoutMs;
  for (;;) {
    int64_t now = now_ms();
    if (now >= deadline) {
      bool select = hs->waiting_for_select();
      HandshakeStep step = hs->fail(status::kClientTimeout,
                                    std::string("Timed out after 15000 ms waiting for ") +
                                        (select ? "\"select\"" : "the handshake to continue"));
      out->append_raw(step.send);
      out->flush();
      log_warn(step.message);
      return HandshakeEnd::kFailed;
    }
    struct pollfd fds[2] = {{0, POLLIN, 0}, {g_signal_pipe[0], POLLIN, 0}};
    int rc = poll(fds, 2, static_cast<int>(deadline - now));
    if (rc < 0 && errno != EINTR) return HandshakeEnd::kClosed;
    if (rc <= 0) continue;
    if (fds[1].revents) return HandshakeEnd::kClosed;
    ssize_t n = read(0, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) return HandshakeEnd::kClosed;
    std::vector<Instruction> ins;
    bool ok = reader->feed(reinterpret_cast<const uint8_t*>(buf), static_cast<size_t>(n), &ins);
    for (size_t i = 0; i < ins.size(); i++) {
      HandshakeStep step = hs->receive(ins[i]);
      out->append_raw(step.send);
      deadline = now_ms() + kHandshakeStepTimeoutMs;
      if (step.outcome == HandshakeStep::Outcome::kFail) {
        out->flush();
        log_warn("handshake failed", {kv("status", step.status), kv("message", step.message)});
        return HandshakeEnd::kFailed;
      }
      if (step.outcome == HandshakeStep::Outcome::kConnect) {
        out->flush();
        for (size_t j = i + 1; j < ins.size(); j++) rest->push_back(std::move(ins[j]));
        *malformed_rest = !ok;
        return HandshakeEnd::kConnect;
      }
    }
    if (!ok) {
      HandshakeStep step = hs->fail(status::kClientBadRequest, reader->error());
      out->append_raw(step.send);
      out->flush();
      log_warn("handshake failed", {kv("message", reader->error())});
      return HandshakeEnd::kFailed;
    }
    if (!out->flush()) return HandshakeEnd::kClosed;
  }
}

}  // namespace

int main(int argc, char** argv) {
  long memory_limit_mb = 0;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    auto value = [&](const char* name) -> const char* {
      if (i + 1 >= argc) return nullptr;
      (void)name;
      return argv[++i];
    };
    if (a == "--memory-limit-mb") {
      const char* v = value("--memory-limit-mb");
      char* end = nullptr;
      memory_limit_mb = v ? std::strtol(v, &end, 10) : -1;
      if (!v || *end != '\0' || memory_limit_mb < 16 || memory_limit_mb > 1048576) {
        return usage("--memory-limit-mb takes a number of MiB from 16 to 1048576");
      }
    } else if (a == "--log-level") {
      const char* v = value("--log-level");
      LogLevel level;
      if (!v || !parse_log_level(v, &level)) return usage("--log-level takes error, warn, info or debug");
      set_log_level(level);
    } else if (a == "--help" || a == "-h") {
      usage(nullptr);
      return 0;
    } else {
      return usage(("unknown argument " + a).c_str());
    }
  }

  // stdout is the Guacamole channel: keep a private copy of it and point fd 1 at stderr, so nothing
  // a library prints can corrupt the protocol stream.
  g_out_fd = fcntl(1, F_DUPFD_CLOEXEC, 3);
  if (g_out_fd < 0 || dup2(2, 1) < 0) {
    log_error("cannot set up standard output");
    return 1;
  }
  int fl = fcntl(g_out_fd, F_GETFL);
  if (fl >= 0) fcntl(g_out_fd, F_SETFL, fl & ~O_NONBLOCK);
  fl = fcntl(0, F_GETFL);
  if (fl >= 0) fcntl(0, F_SETFL, fl | O_NONBLOCK);

  signal(SIGPIPE, SIG_IGN);
  if (pipe2(g_signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
    log_error("cannot create the signal pipe");
    return 1;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGHUP, &sa, nullptr);

  // Address space is what --memory-limit-mb limits: one malloc arena (each extra one reserves 64 MiB)
  // and 2 MiB thread stacks instead of 8 MiB (FreeRDP starts a thread per channel).
  mallopt(M_ARENA_MAX, 1);
  {
    pthread_attr_t attr;
    if (pthread_attr_init(&attr) == 0) {
      pthread_attr_setstacksize(&attr, 2u << 20);
      pthread_setattr_default_np(&attr);
      pthread_attr_destroy(&attr);
    }
  }
  if (memory_limit_mb > 0) {
#if defined(GATEHOUSE_SANITIZE)
    log_warn("--memory-limit-mb ignored in a sanitizer build (ASan reserves terabytes of address space)");
#else
    // The limit is on what the engine maps beyond its start-up address space: FreeRDP's dependencies
    // (ffmpeg and its codecs among them) already map 150-200 MiB of shared libraries, which a plain
    // RLIMIT_AS of N MiB would count against the session.
    rlim_t base = startup_address_space();
    struct rlimit rl;
    rl.rlim_cur = rl.rlim_max = base + static_cast<rlim_t>(memory_limit_mb) * 1024 * 1024;
    log_debug("address space limit set", {kv("startupMiB", static_cast<int64_t>(base >> 20)),
                                         kv("limitMiB", static_cast<int64_t>(rl.rlim_cur >> 20))});
    if (setrlimit(RLIMIT_AS, &rl) != 0) {
      log_error("setrlimit(RLIMIT_AS) failed", {kv("errno", errno)});
      return 1;
    }
#endif
  }
  install_wlog_bridge();
  // FreeRDP would otherwise benchmark its generic and SIMD colour converters for 150 ms each on
  // first use (inside freerdp_connect): take the CPU-optimised ones directly.
  primitives_set_hints(PRIMITIVES_ONLY_CPU);

  GuacWriter out(g_out_fd);
  out.set_interrupt_flag(&g_signals);
  Handshake hs(all_param_names());
  SessionIo io;
  io.in_fd = 0;
  io.out = &out;
  io.signal_fd = g_signal_pipe[0];
  std::vector<Instruction> rest;
  bool malformed_after_connect = false;
  HandshakeEnd end = run_handshake(&hs, &io.reader, &out, &rest, &malformed_after_connect);
  if (end == HandshakeEnd::kClosed) {
    log_info("the client went away during the handshake");
    return 0;
  }
  if (end == HandshakeEnd::kFailed) return 1;
  io.connect_received = now_ms();

  RdpConfig config;
  std::string error;
  if (!parse_config(hs.values(), hs.client(), &config, &error)) {
    out.send({"error", sanitize_utf8(error), std::to_string(status::kClientBadRequest)});
    out.flush();
    log_warn("connection parameters rejected", {kv("message", error)});
    return 1;
  }
  if (malformed_after_connect) {
    out.send({"error", sanitize_utf8(io.reader.error()), std::to_string(status::kClientBadRequest)});
    out.flush();
    return 1;
  }
  io.early = std::move(rest);

  // A private directory for FreeRDP's certificate store (it insists on creating one).
  const char* tmp = getenv("TMPDIR");
  std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/gatehouse-rdp-XXXXXX";
  std::vector<char> path(tmpl.begin(), tmpl.end());
  path.push_back('\0');
  if (!mkdtemp(path.data())) {
    out.send({"error", "Internal error: cannot create a temporary directory", std::to_string(status::kServerError)});
    out.flush();
    log_error("mkdtemp failed", {kv("errno", errno), kv("template", tmpl)});
    return 1;
  }
  g_config_dir = path.data();
  io.config_dir = g_config_dir;
  io.remove_config_dir = [] { remove_config_dir(); };
  io.emergency_exit = [](int st, const std::string& message) {
    if (st >= 0) write_error_now(st, message);
    remove_config_dir();
    _exit(st >= 0 ? 1 : 0);
  };

  int code;
  {
    Session session(std::move(config), hs.client(), std::move(io));
    code = session.run();
  }
  out.flush();
  remove_config_dir();
  return code;
}
