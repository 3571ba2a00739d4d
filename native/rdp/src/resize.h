// Browser-driven resizing, with guacd's rules: width and height within 200..8192, even width, requests at
// least 500 ms apart (the latest one wins).
// - resize-method=display-update: a monitor layout through the Display Control channel, nothing sent
//   before the server's capabilities arrive;
// - resize-method=reconnect: the session reconnects with the new size (for servers without the channel);
//   tick() says so and the session does it.
#ifndef GATEHOUSE_RDP_RESIZE_H_
#define GATEHOUSE_RDP_RESIZE_H_

#include <atomic>
#include <cstdint>

#include <freerdp/client/disp.h>
#include <freerdp/freerdp.h>

namespace gatehouse::rdp {

class DisplayResizer {
 public:
  static constexpr int64_t kMinIntervalMs = 500;

  enum class Mode { kNone, kDisplayUpdate, kReconnect };

  void set_mode(Mode mode) { mode_ = mode; }
  // Display Control channel connected / disconnected (any thread).
  void attach(DispClientContext* disp);
  void detach();
  // The client's `size,<w>,<h>` (main thread).
  void request(int width, int height);
  // Milliseconds until a pending request may be sent, -1 when none (main thread).
  int next_in(int64_t now) const;
  // Sends the pending request if it is due (main thread). In reconnect mode returns true with the size
  // instead: the caller reconnects.
  bool tick(rdpContext* context, int64_t now, int* reconnect_w, int* reconnect_h);

 private:
  static UINT on_caps(DispClientContext* disp, UINT32 max_monitors, UINT32 factor_a,
                      UINT32 factor_b);

  Mode mode_ = Mode::kNone;
  std::atomic<DispClientContext*> disp_{nullptr};
  std::atomic<bool> caps_{false};
  bool pending_ = false;
  int want_w_ = 0, want_h_ = 0;
  int64_t last_sent_ = -kMinIntervalMs;
};

}  // namespace gatehouse::rdp

#endif  // GATEHOUSE_RDP_RESIZE_H_
