#include "resize.h"

#include <algorithm>

#include "log.h"
#include "params.h"

namespace gatehouse::rdp {

UINT DisplayResizer::on_caps(DispClientContext* disp, UINT32 max_monitors, UINT32, UINT32) {
  auto* self = static_cast<DisplayResizer*>(disp->custom);
  if (self) self->caps_.store(true);
  log_debug("display control capabilities received", {kv("maxMonitors", max_monitors)});
  return CHANNEL_RC_OK;
}

void DisplayResizer::attach(DispClientContext* disp) {
  if (!disp) return;
  disp->custom = this;
  disp->DisplayControlCaps = on_caps;
  disp_.store(disp);
}

void DisplayResizer::detach() {
  disp_.store(nullptr);
  caps_.store(false);
}

void DisplayResizer::request(int width, int height) {
  if (mode_ == Mode::kNone) return;
  width = std::clamp(width, kMinDesktopSize, kMaxDesktopSize);
  height = std::clamp(height, kMinDesktopSize, kMaxDesktopSize);
  width -= width % 2;
  want_w_ = width;
  want_h_ = height;
  pending_ = true;
}

int DisplayResizer::next_in(int64_t now) const {
  if (!pending_) return -1;
  if (mode_ == Mode::kDisplayUpdate && (!disp_.load() || !caps_.load())) return -1;
  int64_t due = last_sent_ + kMinIntervalMs;
  return due <= now ? 0 : static_cast<int>(due - now);
}

bool DisplayResizer::tick(rdpContext* context, int64_t now, int* reconnect_w, int* reconnect_h) {
  if (next_in(now) != 0 || !context) return false;
  pending_ = false;
  rdpSettings* settings = context->settings;
  if (static_cast<int>(settings->DesktopWidth) == want_w_ &&
      static_cast<int>(settings->DesktopHeight) == want_h_) {
    return false;
  }
  if (mode_ == Mode::kReconnect) {
    last_sent_ = now;
    *reconnect_w = want_w_;
    *reconnect_h = want_h_;
    return true;
  }
  DispClientContext* disp = disp_.load();
  DISPLAY_CONTROL_MONITOR_LAYOUT layout = {};
  layout.Flags = DISPLAY_CONTROL_MONITOR_PRIMARY;
  layout.Left = 0;
  layout.Top = 0;
  layout.Width = static_cast<UINT32>(want_w_);
  layout.Height = static_cast<UINT32>(want_h_);
  layout.Orientation = ORIENTATION_LANDSCAPE;
  layout.DesktopScaleFactor = 100;
  layout.DeviceScaleFactor = 100;
  // Physical size in millimetres at 96 dpi.
  layout.PhysicalWidth = static_cast<UINT32>(want_w_ * 254 / 960);
  layout.PhysicalHeight = static_cast<UINT32>(want_h_ * 254 / 960);
  last_sent_ = now;
  UINT rc = disp->SendMonitorLayout(disp, 1, &layout);
  log_info("display size requested", {kv("width", want_w_), kv("height", want_h_),
                                      kv("ok", rc == CHANNEL_RC_OK)});
  return false;
}

}  // namespace gatehouse::rdp
