#include "session.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include <freerdp/gdi/gdi.h>
#include <freerdp/input.h>
#include <winpr/handle.h>

#include "clock.h"
#include "connect_watch.h"
#include "errors.h"
#include "fast_sleep.h"
#include "log.h"
#include "rdp_settings.h"
#include "status.h"
#include "uuid.h"

namespace gatehouse::rdp {

namespace {

constexpr int64_t kNopIntervalMs = 5000;
constexpr UINT32 kProtocolHybrid = 0x2, kProtocolHybridEx = 0x8;  // MS-RDPBCGR RDP_NEG_RSP
constexpr size_t kReadChunk = 65536;

// A decimal integer within [lo, hi], or false.
bool parse_int(const std::string& s, long long lo, long long hi, long long* out) {
  if (s.empty() || s.size() > 19) return false;
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno != 0 || *end != '\0' || v < lo || v > hi) return false;
  *out = v;
  return true;
}

DisplayOptions display_options(const RdpConfig& c, const ClientInfo& client) {
  DisplayOptions o;
  o.force_lossless = c.force_lossless;
  o.jpeg = client.accepts_image("image/jpeg");
  o.webp = client.accepts_image("image/webp");
  return o;
}

}  // namespace

Session::Session(RdpConfig config, ClientInfo client, SessionIo io)
    : config_(std::move(config)),
      client_(std::move(client)),
      io_(std::move(io)),
      out_(*io_.out),
      display_(io_.out, &streams_, display_options(config_, client_)) {
  main_thread_ = std::this_thread::get_id();
  keyboard_.set_keymap(find_keymap(config_.server_layout));
  resizer_.set_mode(config_.resize_method == ResizeMethod::kDisplayUpdate ? DisplayResizer::Mode::kDisplayUpdate
                    : config_.resize_method == ResizeMethod::kReconnect   ? DisplayResizer::Mode::kReconnect
                                                                          : DisplayResizer::Mode::kNone);
  modules_ = create_channel_modules();
}

Session::~Session() { teardown(); }

void Session::send(std::initializer_list<std::string_view> instruction) { out_.send(instruction); }

void Session::send_blobs(int stream, const uint8_t* data, size_t len) { out_.send_blobs(stream, data, len); }

void Session::wake() {
  if (wake_event_) SetEvent(wake_event_);
}

void Session::post(std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> lock(posted_mutex_);
    if (posted_.size() >= 4096) return;  // the main thread is gone or stuck: drop
    posted_.push_back(std::move(fn));
  }
  wake();
}

void Session::run_on_main(std::function<void()> fn) {
  if (on_main_thread()) fn();
  else post(std::move(fn));
}

void Session::run_posted() {
  std::deque<std::function<void()>> batch;
  {
    std::lock_guard<std::mutex> lock(posted_mutex_);
    batch.swap(posted_);
  }
  for (auto& fn : batch) fn();
}

void Session::fail(int st, const std::string& message) {
  if (!error_sent_) {
    error_sent_ = true;
    out_.send({"error", sanitize_utf8(message), std::to_string(st)});
    out_.flush();
    log_warn("session ended with an error", {kv("status", st), kv("message", message)});
  }
  exit_code_ = 1;
  stop_ = true;
}

bool Session::create_context() {
  RDP_CLIENT_ENTRY_POINTS ep;
  fill_entry_points(&ep);
  context_ = freerdp_client_context_new(&ep);
  if (!context_) return false;
  reinterpret_cast<GhContext*>(context_)->session = this;
  std::string error;
  if (!apply_settings(config_, io_.config_dir, context_->settings, &error)) {
    log_error(error);
    return false;
  }
  return true;
}

bool Session::connect() {
  log_info("connecting", {kv("host", config_.hostname), kv("port", static_cast<int>(config_.port)),
                          kv("security", config_.raw["security"].empty() ? "any" : config_.raw["security"]),
                          kv("gfx", !config_.disable_gfx),
                          kv("h264", !config_.disable_gfx && config_.enable_h264), kv("width", config_.width),
                          kv("height", config_.height)});
  return connect_watched("connected", freerdp_connect);
}

bool Session::reconnect(int width, int height) {
  log_info("reconnecting for a new size (resize-method=reconnect)", {kv("width", width), kv("height", height)});
  keyboard_.release_all();
  rdpSettings* s = context_->settings;
  freerdp_settings_set_uint32(s, FreeRDP_DesktopWidth, static_cast<UINT32>(width));
  freerdp_settings_set_uint32(s, FreeRDP_DesktopHeight, static_cast<UINT32>(height));
  if (!connect_watched("reconnected", freerdp_reconnect)) return false;
  // FreeRDP calls DesktopResize only when the server's size differs from the one asked for: resize the
  // framebuffer to what was agreed either way (a no-op when DesktopResize did).
  rdpGdi* gdi = context_->gdi;
  EnterCriticalSection(&context_->update->mux);
  BOOL ok = gdi && gdi_resize(gdi, freerdp_settings_get_uint32(s, FreeRDP_DesktopWidth),
                              freerdp_settings_get_uint32(s, FreeRDP_DesktopHeight));
  int w = gdi ? static_cast<int>(gdi->width) : 0, h = gdi ? static_cast<int>(gdi->height) : 0;
  LeaveCriticalSection(&context_->update->mux);
  if (!ok) {
    fail(status::kServerError, "Internal error: cannot resize the framebuffer after reconnecting");
    return false;
  }
  display_.desktop_resized(w, h);
  keyboard_.sync_locks(0);
  mouse_mask_ = 0;
  std::vector<Instruction> early;
  early.swap(io_.early);
  for (const auto& ins : early) {
    handle(ins);
    if (stop_) return false;
  }
  return true;
}

bool Session::connect_watched(const char* what, BOOL (*call)(freerdp*)) {
  freerdp* instance = context_->instance;
  int64_t deadline = now_ms() + static_cast<int64_t>(config_.timeout_s) * 1000;
  auto emergency = io_.emergency_exit;
  ConnectWatch watch(io_.in_fd, io_.signal_fd, deadline, instance, [emergency](ConnectWatch::Reason r) {
    if (r == ConnectWatch::Reason::kTimeout) {
      emergency(status::kUpstreamTimeout, "Timed out connecting to the RDP server");
    } else if (r == ConnectWatch::Reason::kInputOverflow) {
      emergency(status::kClientOverrun, "Too much input from the client while connecting");
    } else {
      emergency(-1, "");  // the client is gone or we were told to stop: a normal end
    }
  });
  if (!watch.start()) {
    fail(status::kServerError, "Internal error: cannot watch the connection attempt");
    return false;
  }
  int64_t started = now_ms();
  set_fast_sleep_context(context_);
  BOOL ok = call(instance);
  watch.stop();
  // FreeRDP wanted the directory for its certificate store during TLS; nothing is kept there (we never
  // accept a certificate permanently), so remove it now rather than at exit.
  if (io_.remove_config_dir) io_.remove_config_dir();
  connected_ = true;  // freerdp_disconnect() is due from here on, whatever the outcome
  // Feed what the client sent meanwhile (it may be nothing but an EOF).
  if (!watch.input().empty()) {
    std::vector<Instruction> ins;
    if (!io_.reader.feed(reinterpret_cast<const uint8_t*>(watch.input().data()), watch.input().size(), &ins)) {
      fail(status::kClientBadRequest, io_.reader.error());
      return false;
    }
    for (auto& i : ins) io_.early.push_back(std::move(i));
  }
  switch (watch.reason()) {
    case ConnectWatch::Reason::kInputClosed:
    case ConnectWatch::Reason::kSignal:
      log_info("connection attempt abandoned (client gone or terminated)");
      stop_ = true;
      return false;
    case ConnectWatch::Reason::kInputOverflow:
      fail(status::kClientOverrun, "Too much input from the client while connecting");
      return false;
    case ConnectWatch::Reason::kTimeout:
      fail(status::kUpstreamTimeout, "Timed out connecting to the RDP server");
      return false;
    case ConnectWatch::Reason::kNone:
      break;
  }
  if (!ok) {
    UINT32 e = freerdp_get_last_error(context_);
    StatusMessage m = map_connect_error(e, false);
    if (!cert_rejected_.empty()) m = {status::kUpstreamNotFound, cert_rejected_};
    // A server that ran NLA (CredSSP) and then hangs up has refused the credentials (FreeRDP's
    // shadow server does that; Windows sends a CredSSP error code, mapped above).
    UINT32 selected = freerdp_settings_get_uint32(context_->settings, FreeRDP_SelectedProtocol);
    if (cert_rejected_.empty() && (selected & (kProtocolHybrid | kProtocolHybridEx)) &&
        (e == FREERDP_ERROR_CONNECT_TRANSPORT_FAILED || e == FREERDP_ERROR_CONNECT_FAILED)) {
      m = {status::kClientUnauthorized, "Authentication failure (the server closed the connection after NLA)"};
    }
    log_warn("connection failed", {kv("error", freerdp_get_last_error_name(e)),
                                   kv("detail", freerdp_get_last_error_string(e)),
                                   kv("elapsedMs", now_ms() - started)});
    fail(m.status, m.message);
    return false;
  }
  log_info(what, {kv("elapsedMs", now_ms() - started)});
  return true;
}

void Session::handle_mouse(const Instruction& ins) {
  if (ins.args.size() < 3 || !context_) return;
  long long x, y, mask;
  if (!parse_int(ins.args[0], -100000, 100000, &x) || !parse_int(ins.args[1], -100000, 100000, &y) ||
      !parse_int(ins.args[2], 0, 0x7FFFFFFF, &mask)) {
    log_debug("malformed mouse instruction ignored");
    return;
  }
  rdpInput* input = context_->input;
  int maxx = std::max(0, display_.width() - 1), maxy = std::max(0, display_.height() - 1);
  auto px = static_cast<UINT16>(std::clamp<long long>(x, 0, maxx));
  auto py = static_cast<UINT16>(std::clamp<long long>(y, 0, maxy));
  int m = static_cast<int>(mask & 0x1F);
  int changed = m ^ mouse_mask_;
  freerdp_input_send_mouse_event(input, PTR_FLAGS_MOVE, px, py);
  const struct {
    int bit;
    UINT16 flag;
  } buttons[] = {{1, PTR_FLAGS_BUTTON1}, {2, PTR_FLAGS_BUTTON3}, {4, PTR_FLAGS_BUTTON2}};
  for (const auto& b : buttons) {
    if (changed & b.bit) {
      auto flags = static_cast<UINT16>(b.flag | ((m & b.bit) ? PTR_FLAGS_DOWN : 0));
      freerdp_input_send_mouse_event(input, flags, px, py);
    }
  }
  if ((changed & 8) && (m & 8)) freerdp_input_send_mouse_event(input, PTR_FLAGS_WHEEL | 0x78, px, py);
  if ((changed & 16) && (m & 16)) {
    freerdp_input_send_mouse_event(input, PTR_FLAGS_WHEEL | PTR_FLAGS_WHEEL_NEGATIVE | 0x88, px, py);
  }
  mouse_mask_ = m;
}

void Session::handle_key(const Instruction& ins) {
  long long keysym, pressed;
  if (ins.args.size() < 2 || !parse_int(ins.args[0], 0, 0x1FFFFFFF, &keysym) ||
      !parse_int(ins.args[1], 0, 1, &pressed)) {
    log_debug("malformed key instruction ignored");
    return;
  }
  keyboard_.key(static_cast<uint32_t>(keysym), pressed == 1);
}

void Session::handle_size(const Instruction& ins) {
  long long w, h;
  if (ins.args.size() < 2 || !parse_int(ins.args[0], 0, 65535, &w) || !parse_int(ins.args[1], 0, 65535, &h)) {
    log_debug("malformed size instruction ignored");
    return;
  }
  resizer_.request(static_cast<int>(w), static_cast<int>(h));
}

void Session::handle(const Instruction& ins) {
  const std::string& op = ins.opcode;
  if (op == "sync") {
    long long ts;
    if (!ins.args.empty() && parse_int(ins.args[0], 0, INT64_MAX, &ts)) {
      if (!display_.sync_reply(ts, now_ms())) log_debug("sync reply for a frame never sent or already answered");
    }
    return;
  }
  if (op == "mouse") {
    if (!config_.read_only) handle_mouse(ins);
    return;
  }
  if (op == "key") {
    if (!config_.read_only) handle_key(ins);
    return;
  }
  if (op == "size") {
    if (!config_.read_only) handle_size(ins);
    return;
  }
  if (op == "nop" || op.empty()) return;
  if (op == "disconnect") {
    log_info("the client disconnected");
    stop_ = true;
    return;
  }
  for (auto& m : modules_) {
    if (m->instruction(*this, ins)) return;
  }
  // Streams nobody takes: refuse them, as guacd does for unsupported stream types.
  if ((op == "clipboard" || op == "file" || op == "pipe" || op == "put" || op == "audio" || op == "argv") &&
      !ins.args.empty()) {
    long long stream;
    if (parse_int(ins.args[0], 0, 0x7FFFFFFF, &stream)) {
      out_.send({"ack", ins.args[0], "Unsupported", std::to_string(status::kUnsupported)});
    }
    return;
  }
  log_debug("instruction ignored", {kv("opcode", sanitize_utf8(op.substr(0, 32)))});
}

bool Session::read_input() {
  char buf[kReadChunk];
  for (int rounds = 0; rounds < 4; rounds++) {
    ssize_t n = read(io_.in_fd, buf, sizeof buf);
    if (n == 0) {
      log_info("the client closed its input");
      stop_ = true;
      return false;
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
      log_warn("reading client input failed", {kv("errno", errno)});
      stop_ = true;
      return false;
    }
    std::vector<Instruction> ins;
    bool ok = io_.reader.feed(reinterpret_cast<const uint8_t*>(buf), static_cast<size_t>(n), &ins);
    for (const auto& i : ins) {
      handle(i);
      if (stop_) return false;
    }
    if (!ok) {
      fail(status::kClientBadRequest, io_.reader.error());
      return false;
    }
    if (static_cast<size_t>(n) < sizeof buf) return true;
  }
  return true;
}

void Session::loop() {
  HANDLE handles[MAXIMUM_WAIT_OBJECTS];
  last_output_ = now_ms();
  while (!stop_) {
    DWORD count = freerdp_get_event_handles(context_, handles, MAXIMUM_WAIT_OBJECTS - 3);
    if (count == 0) {
      fail(status::kServerError, "Internal error: no FreeRDP event handles");
      break;
    }
    DWORD input_index = count, signal_index = count + 1;
    handles[count++] = input_event_;
    handles[count++] = signal_event_;
    handles[count++] = wake_event_;
    int64_t now = now_ms();
    int64_t timeout = kNopIntervalMs - (now - last_output_);
    int d = display_.next_flush_in(now);
    if (d >= 0) timeout = std::min<int64_t>(timeout, d);
    int r = resizer_.next_in(now);
    if (r >= 0) timeout = std::min<int64_t>(timeout, r);
    int trim = idle_trim_.next_in(now);
    if (trim >= 0) timeout = std::min<int64_t>(timeout, trim);
    timeout = std::clamp<int64_t>(timeout, 0, kNopIntervalMs);
    DWORD rc = WaitForMultipleObjects(count, handles, FALSE, static_cast<DWORD>(timeout));
    if (rc == WAIT_FAILED) {
      fail(status::kServerError, "Internal error: waiting for events failed");
      break;
    }
    if (WaitForSingleObject(handles[signal_index], 0) == WAIT_OBJECT_0) {
      log_info("terminated by signal");
      stop_ = true;
      break;
    }
    if (WaitForSingleObject(handles[input_index], 0) == WAIT_OBJECT_0) {
      if (!read_input()) break;
    }
    ResetEvent(wake_event_);
    run_posted();
    bool checked = freerdp_check_event_handles(context_) == TRUE;
    if (!checked || freerdp_shall_disconnect(context_->instance)) {
      UINT32 info = freerdp_error_info(context_->instance);
      UINT32 last = freerdp_get_last_error(context_);
      StatusMessage m = map_disconnect(info, last);
      if (!checked && info == 0 && (last == 0 || last == FREERDP_ERROR_SUCCESS)) {
        // FreeRDP failed on its own (a channel could not start, out of memory...), not the server.
        m = {status::kServerError, "The RDP client failed (see the engine log)"};
      }
      if (m.status == status::kSuccess) {
        log_info("the RDP session ended", {kv("reason", m.message)});
        // As guacd: a normal end (logoff, server shutdown of the session) is a `disconnect` to the client.
        out_.send({"disconnect"});
        out_.flush();
        stop_ = true;
      } else {
        fail(m.status, m.message);
      }
      break;
    }
    now = now_ms();
    int rw = 0, rh = 0;
    if (resizer_.tick(context_, now, &rw, &rh) && !reconnect(rw, rh)) break;
    if (display_.flush(context_, now)) {
      idle_trim_.activity(now);
      if (display_.stats().frames == 1) {
        log_info("first frame sent", {kv("msSinceConnect", now - io_.connect_received)});
      }
    } else if (idle_trim_.next_in(now) == 0) {
      out_.release_spare();
      idle_trim_.trim();
    }
    if (out_.buffered() > 0) {
      last_output_ = now;
    } else if (now - last_output_ >= kNopIntervalMs) {
      out_.send({"nop"});
      last_output_ = now;
    }
    if (!out_.flush()) {
      log_info("the client's output closed");
      stop_ = true;
    }
  }
}

int Session::run() {
  wake_event_ = CreateEvent(nullptr, TRUE, FALSE, nullptr);
  input_event_ = CreateFileDescriptorEvent(nullptr, FALSE, FALSE, io_.in_fd, WINPR_FD_READ);
  signal_event_ = CreateFileDescriptorEvent(nullptr, FALSE, FALSE, io_.signal_fd, WINPR_FD_READ);
  if (!wake_event_ || !input_event_ || !signal_event_) {
    fail(status::kServerError, "Internal error: cannot create event handles");
    return exit_code_;
  }
  display_.set_wake([this] { wake(); });
  if (!create_context()) {
    fail(status::kServerError, "Internal error: cannot set up the RDP client");
    return exit_code_;
  }
  if (!connect()) return exit_code_;
  keyboard_.set_input(context_->input);
  keyboard_.sync_locks(0);
  out_.send({"ready", "$" + new_uuid()});
  out_.flush();
  for (const auto& ins : io_.early) {
    handle(ins);
    if (stop_) break;
  }
  io_.early.clear();
  if (!stop_) loop();
  const DisplayStats& s = display_.stats();
  log_info("session ended", {kv("frames", static_cast<int64_t>(s.frames)), kv("images", static_cast<int64_t>(s.images)),
                             kv("rects", static_cast<int64_t>(s.rects)), kv("copies", static_cast<int64_t>(s.copies)),
                             kv("imageBytes", static_cast<int64_t>(s.image_bytes)),
                             kv("bytesOut", static_cast<int64_t>(out_.bytes_written()))});
  return exit_code_;
}

void Session::teardown() {
  for (auto& m : modules_) m->shutdown(*this);
  if (context_) {
    if (connected_) {
      if (!freerdp_shall_disconnect(context_->instance)) keyboard_.release_all();
      freerdp_disconnect(context_->instance);
      connected_ = false;
    }
    // Callbacks may still reach us from FreeRDP's teardown: they check for a null session.
    set_fast_sleep_context(nullptr);
    reinterpret_cast<GhContext*>(context_)->session = nullptr;
    freerdp_client_context_free(context_);
    context_ = nullptr;
  }
  modules_.clear();
  for (HANDLE* h : {&wake_event_, &input_event_, &signal_event_}) {
    if (*h) {
      CloseHandle(*h);
      *h = nullptr;
    }
  }
}

}  // namespace gatehouse::rdp
