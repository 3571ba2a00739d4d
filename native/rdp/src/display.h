// The remote desktop as Guacamole drawing instructions.
//
// FreeRDP's software GDI draws into gdi->primary_buffer (32 bpp). Producers (EndPaint, ScrBlt, GFX
// SurfaceToSurface, frame markers, desktop resize; on FreeRDP's threads, under update->mux) record
// dirty 64x64 cells, copy hints and frame ends. The main thread flushes a frame: it replays the copy
// hints as `copy` instructions on a shadow of what the client shows, compares the dirty cells with
// the framebuffer, and sends only what differs: solid areas as rect+cfill, the rest merged into
// images of at most 512x512 (PNG / JPEG / WebP by guacd's rules), then `sync`.
#ifndef GATEHOUSE_RDP_DISPLAY_H_
#define GATEHOUSE_RDP_DISPLAY_H_

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include <freerdp/freerdp.h>

#include "guac_io.h"
#include "pacing.h"
#include "stream_ids.h"

namespace gatehouse::rdp {

struct DisplayOptions {
  bool force_lossless = false;
  bool jpeg = false;  // the client accepts image/jpeg
  bool webp = false;  // the client accepts image/webp
};

struct DisplayStats {
  uint64_t frames = 0;
  uint64_t images = 0;
  uint64_t rects = 0;
  uint64_t copies = 0;
  uint64_t image_bytes = 0;
};

class Display {
 public:
  static constexpr int kCell = 64;
  static constexpr int kMaxImage = 512;

  Display(GuacWriter* out, StreamIds* streams, DisplayOptions options);

  // Producers (any thread). `wake` is called (outside the lock) when the main loop should look.
  void set_wake(std::function<void()> wake) { wake_ = std::move(wake); }
  void invalidate(int x, int y, int w, int h);
  void copy_hint(int sx, int sy, int w, int h, int dx, int dy);
  void frame_marker();
  void desktop_resized(int width, int height);

  // Main thread. Milliseconds until a frame is due (0: now), or -1 when nothing is pending.
  int next_flush_in(int64_t now);
  // Sends a frame when one is due (or `force`). Returns true if a frame was sent.
  bool flush(rdpContext* context, int64_t now, bool force = false);
  // The client's `sync,<ts>` reply. False for a timestamp never sent.
  bool sync_reply(int64_t ts, int64_t now);
  const Pacer& pacer() const { return pacer_; }
  const DisplayStats& stats() const { return stats_; }
  int width() const { return width_; }
  int height() const { return height_; }
  // Time of the first frame (0 until then).
  int64_t first_frame_at() const { return first_frame_at_; }
  // What the client shows (BGRX, stride width()*4), for tests.
  const std::vector<uint8_t>& shadow() const { return shadow_; }

 private:
  struct Cell {
    int x, y, w, h;  // changed bounding box, in screen coordinates
  };
  struct Copy {
    int sx, sy, w, h, dx, dy;
  };
  struct Job {
    int x, y, w, h;
    int format;  // 0 png, 1 jpeg, 2 webp
    int quality;
    std::vector<uint8_t> data;
  };

  void mark_locked(int x, int y, int w, int h);
  void reset_shadow(int width, int height);
  void apply_copy(const Copy& c);
  bool diff_cell(const uint8_t* fb, int stride, int cx, int cy, Cell* out);
  double region_fps(int x, int y, int w, int h, int64_t now) const;
  void encode_jobs(std::vector<Job>* jobs);

  GuacWriter* out_;
  StreamIds* streams_;
  DisplayOptions options_;
  std::function<void()> wake_;

  // Pending state, guarded by mutex_.
  std::mutex mutex_;
  int grid_w_ = 0, grid_h_ = 0;       // cells across / down of the pending grid
  int pending_w_ = 0, pending_h_ = 0;  // framebuffer size the producers last saw
  std::vector<uint8_t> pending_cells_;
  bool pending_any_ = false;
  std::vector<Copy> pending_copies_;
  int pending_markers_ = 0;
  bool pending_resize_ = false;
  int64_t resize_hold_until_ = 0;  // after a resize, wait this long for the server's first paint
  bool painted_after_resize_ = false;
  int64_t first_dirty_ = 0;
  int64_t last_dirty_ = 0;

  // Main-thread state.
  int width_ = 0, height_ = 0;
  std::vector<uint8_t> shadow_;  // what the client shows (BGRX, stride width_*4)
  std::vector<uint8_t> known_;   // per cell: the client has the shadow's content
  std::vector<int64_t> heat_last_;
  std::vector<float> heat_fps_;
  std::vector<uint8_t> work_cells_;
  Pacer pacer_;
  int64_t last_flush_ = 0;
  int64_t first_frame_at_ = 0;
  DisplayStats stats_;
};

}  // namespace gatehouse::rdp

#endif  // GATEHOUSE_RDP_DISPLAY_H_
