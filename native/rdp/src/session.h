// One RDP session: the FreeRDP client, its event loop, and the Guacamole side (display, cursor,
// input, resize, channel modules). Lives on the main thread; FreeRDP's channel threads reach it
// through post() and the Display's producer methods.
#ifndef GATEHOUSE_RDP_SESSION_H_
#define GATEHOUSE_RDP_SESSION_H_

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <freerdp/client.h>
#include <freerdp/freerdp.h>
#include <winpr/synch.h>

#include "channel_hooks.h"
#include "display.h"
#include "guac_io.h"
#include "handshake.h"
#include "keyboard.h"
#include "params.h"
#include "idle_trim.h"
#include "resize.h"
#include "stream_ids.h"

namespace gatehouse::rdp {

class Session;

// The FreeRDP context: the client common part, then a pointer back to the session.
struct GhContext {
  rdpClientContext common;
  Session* session;
};

inline Session* session_of(rdpContext* context) {
  return context ? reinterpret_cast<GhContext*>(context)->session : nullptr;
}

struct SessionIo {
  int in_fd = 0;                     // Guacamole instructions from the client (non-blocking)
  GuacWriter* out = nullptr;         // Guacamole instructions to the client
  int signal_fd = -1;                // readable once SIGTERM/SIGINT arrived
  std::string config_dir;            // private writable directory for FreeRDP's certificate store
  std::function<void()> remove_config_dir;  // removes it (after the connection attempt)
  GuacReader reader;                 // the handshake's reader (it may hold a partial instruction)
  std::vector<Instruction> early;    // instructions that followed `connect` in the same read
  int64_t connect_received = 0;      // when `connect` arrived (now_ms)
  // Ends the process at once (FreeRDP stuck after an abort): sends `error` if given, exits.
  std::function<void(int status, const std::string& message)> emergency_exit;
};

class Session : public SessionApi {
 public:
  Session(RdpConfig config, ClientInfo client, SessionIo io);
  ~Session() override;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Connects, sends ready, runs until the end. Returns the process exit code. Any error has been
  // sent to the client (error,<message>,<status>) before it returns.
  int run();

  // SessionApi
  void send(std::initializer_list<std::string_view> instruction) override;
  void send_blobs(int stream, const uint8_t* data, size_t len) override;
  int alloc_stream() override { return streams_.alloc(); }
  void free_stream(int index) override { streams_.free(index); }
  void post(std::function<void()> fn) override;
  const RdpConfig& config() const override { return config_; }
  const ClientInfo& client() const override { return client_; }
  rdpContext* context() const override { return context_; }

  // For the FreeRDP callbacks (rdp_callbacks.cc, cursor.cc).
  Display& display() { return display_; }
  Keyboard& keyboard() { return keyboard_; }
  DisplayResizer& resizer() { return resizer_; }
  std::vector<std::unique_ptr<ChannelModule>>& modules() { return modules_; }
  void wake();
  // Runs fn now when on the main thread, else posts it.
  void run_on_main(std::function<void()> fn);
  bool on_main_thread() const { return std::this_thread::get_id() == main_thread_; }
  // A certificate was refused (for the error message).
  void note_certificate_rejected(const std::string& why) { cert_rejected_ = why; }
  const std::string& certificate_rejected() const { return cert_rejected_; }

 private:
  bool create_context();
  bool connect();
  // Runs freerdp_connect() or freerdp_reconnect() under a ConnectWatch; on failure ends the session with
  // the mapped status. Instructions the client sent meanwhile go to io_.early.
  bool connect_watched(const char* what, BOOL (*call)(freerdp*));
  // resize-method=reconnect: reconnects with the new size and redraws.
  bool reconnect(int width, int height);
  void loop();
  bool read_input();
  void handle(const Instruction& ins);
  void handle_mouse(const Instruction& ins);
  void handle_key(const Instruction& ins);
  void handle_size(const Instruction& ins);
  void run_posted();
  void fail(int status, const std::string& message);
  void end_session();
  void teardown();

  RdpConfig config_;
  ClientInfo client_;
  SessionIo io_;
  GuacWriter& out_;
  StreamIds streams_;
  Display display_;
  Keyboard keyboard_;
  DisplayResizer resizer_;
  IdleTrim idle_trim_;
  std::vector<std::unique_ptr<ChannelModule>> modules_;
  rdpContext* context_ = nullptr;
  bool connected_ = false;
  std::thread::id main_thread_;

  HANDLE wake_event_ = nullptr;
  HANDLE input_event_ = nullptr;
  HANDLE signal_event_ = nullptr;
  std::mutex posted_mutex_;
  std::deque<std::function<void()>> posted_;

  bool stop_ = false;
  int exit_code_ = 0;
  bool error_sent_ = false;
  std::string cert_rejected_;
  int mouse_mask_ = 0;
  int64_t last_output_ = 0;
  int64_t connect_started_ = 0;
};

}  // namespace gatehouse::rdp

#endif  // GATEHOUSE_RDP_SESSION_H_
