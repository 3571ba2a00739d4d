#include "display.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <thread>

#include <freerdp/gdi/gdi.h>

#include "clock.h"
#include "encode.h"
#include "log.h"

namespace gatehouse::rdp {

namespace {

constexpr int64_t kQuietMs = 10;        // no paint for this long ends a frame without a marker
constexpr int64_t kMaxFrameMs = 40;     // a frame without a marker lasts at most this long
constexpr int64_t kMinIntervalMs = 10;  // at least this long between two frames
constexpr int64_t kMaxMergeMs = 500;    // while the client is behind, merge frames up to this long
constexpr int64_t kResizeHoldMs = 1000;  // after a resize, wait for the server's paint (or a marker)
constexpr int kMaxCopies = 64;
constexpr int kLossyMinArea = 4096;
constexpr double kLossyMinFps = 3.0;
constexpr int kMaskOver = 0xE;

constexpr const char* kMimetypes[] = {"image/png", "image/jpeg", "image/webp"};

}  // namespace

Display::Display(GuacWriter* out, StreamIds* streams, DisplayOptions options)
    : out_(out), streams_(streams), options_(options) {}

// ---- producers -----------------------------------------------------------------------------------

void Display::mark_locked(int x, int y, int w, int h) {
  if (grid_w_ == 0 || w <= 0 || h <= 0) return;
  int x0 = std::max(0, x), y0 = std::max(0, y);
  int x1 = std::min(pending_w_, x + w), y1 = std::min(pending_h_, y + h);
  if (x0 >= x1 || y0 >= y1) return;
  for (int cy = y0 / kCell; cy <= (y1 - 1) / kCell; cy++) {
    for (int cx = x0 / kCell; cx <= (x1 - 1) / kCell; cx++) {
      pending_cells_[static_cast<size_t>(cy * grid_w_ + cx)] = 1;
    }
  }
}

void Display::invalidate(int x, int y, int w, int h) {
  bool wake;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    int64_t now = now_ms();
    wake = !pending_any_;
    if (!pending_any_) first_dirty_ = now;
    pending_any_ = true;
    last_dirty_ = now;
    if (pending_resize_) painted_after_resize_ = true;
    mark_locked(x, y, w, h);
  }
  if (wake && wake_) wake_();
}

void Display::copy_hint(int sx, int sy, int w, int h, int dx, int dy) {
  if (w <= 0 || h <= 0 || (sx == dx && sy == dy)) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!pending_resize_ && static_cast<int>(pending_copies_.size()) < kMaxCopies) {
      pending_copies_.push_back({sx, sy, w, h, dx, dy});
    }
  }
  invalidate(dx, dy, w, h);
}

void Display::frame_marker() {
  bool wake;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    pending_markers_++;
    wake = pending_any_;
  }
  if (wake && wake_) wake_();
}

void Display::desktop_resized(int width, int height) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    pending_w_ = std::max(0, width);
    pending_h_ = std::max(0, height);
    grid_w_ = (pending_w_ + kCell - 1) / kCell;
    grid_h_ = (pending_h_ + kCell - 1) / kCell;
    pending_cells_.assign(static_cast<size_t>(grid_w_ * grid_h_), 0);
    pending_copies_.clear();
    pending_resize_ = true;
    resize_hold_until_ = now_ms() + kResizeHoldMs;
    painted_after_resize_ = false;
    if (!pending_any_) first_dirty_ = now_ms();
    pending_any_ = true;
    last_dirty_ = first_dirty_;
  }
  if (wake_) wake_();
}

// ---- main thread ---------------------------------------------------------------------------------

int Display::next_flush_in(int64_t now) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!pending_any_) return -1;
  int64_t due;
  if (pacer_.behind() && !pending_resize_) {
    due = first_dirty_ + kMaxMergeMs;
  } else if (pending_markers_ > 0) {
    due = last_flush_ + kMinIntervalMs;
  } else if (pending_resize_) {
    // The framebuffer is blank (or stale) until the server paints: send the new size with the first
    // paint's frame instead of a blank one, unless nothing comes.
    due = painted_after_resize_ ? std::min(last_dirty_ + kQuietMs, resize_hold_until_) : resize_hold_until_;
  } else {
    due = std::min(last_dirty_ + kQuietMs, first_dirty_ + kMaxFrameMs);
  }
  due = std::max(due, last_flush_ + kMinIntervalMs);
  return due <= now ? 0 : static_cast<int>(due - now);
}

bool Display::sync_reply(int64_t ts, int64_t now) { return pacer_.ack(ts, now); }

void Display::reset_shadow(int width, int height) {
  width_ = width;
  height_ = height;
  shadow_.assign(static_cast<size_t>(width) * static_cast<size_t>(height) * 4, 0);
  shadow_.shrink_to_fit();
  size_t cells = static_cast<size_t>((width + kCell - 1) / kCell) *
                 static_cast<size_t>((height + kCell - 1) / kCell);
  known_.assign(cells, 0);
  heat_last_.assign(cells, 0);
  heat_fps_.assign(cells, 0.0f);
}

void Display::apply_copy(const Copy& c) {
  size_t stride = static_cast<size_t>(width_) * 4;
  auto row = [&](int y, int x) { return shadow_.data() + static_cast<size_t>(y) * stride + static_cast<size_t>(x) * 4; };
  size_t bytes = static_cast<size_t>(c.w) * 4;
  if (c.dy > c.sy) {
    for (int i = c.h - 1; i >= 0; i--) std::memmove(row(c.dy + i, c.dx), row(c.sy + i, c.sx), bytes);
  } else {
    for (int i = 0; i < c.h; i++) std::memmove(row(c.dy + i, c.dx), row(c.sy + i, c.sx), bytes);
  }
}

bool Display::diff_cell(const uint8_t* fb, int fb_stride, int cx, int cy, Cell* out) {
  int gw = (width_ + kCell - 1) / kCell;
  size_t idx = static_cast<size_t>(cy * gw + cx);
  int x0 = cx * kCell, y0 = cy * kCell;
  int w = std::min(kCell, width_ - x0), h = std::min(kCell, height_ - y0);
  size_t sstride = static_cast<size_t>(width_) * 4;
  auto fbrow = [&](int y) { return fb + static_cast<size_t>(y) * static_cast<size_t>(fb_stride) + static_cast<size_t>(x0) * 4; };
  auto shrow = [&](int y) { return shadow_.data() + static_cast<size_t>(y) * sstride + static_cast<size_t>(x0) * 4; };
  size_t bytes = static_cast<size_t>(w) * 4;
  int top = -1, bottom = -1, left = w, right = -1;
  if (!known_[idx]) {
    top = y0;
    bottom = y0 + h - 1;
    left = 0;
    right = w - 1;
    known_[idx] = 1;
  } else {
    for (int y = y0; y < y0 + h; y++) {
      if (std::memcmp(fbrow(y), shrow(y), bytes) != 0) {
        if (top < 0) top = y;
        bottom = y;
        const uint32_t* a = reinterpret_cast<const uint32_t*>(fbrow(y));
        const uint32_t* b = reinterpret_cast<const uint32_t*>(shrow(y));
        for (int x = 0; x < left; x++) {
          if ((a[x] ^ b[x]) & 0x00FFFFFFu) { left = x; break; }
        }
        for (int x = w - 1; x > right; x--) {
          if ((a[x] ^ b[x]) & 0x00FFFFFFu) { right = x; break; }
        }
      }
    }
    if (top < 0 || right < left) {
      // Only the unused X byte differs: take the framebuffer's rows, nothing to send.
      if (top >= 0) {
        for (int y = top; y <= bottom; y++) std::memcpy(shrow(y), fbrow(y), bytes);
      }
      return false;
    }
  }
  size_t span = static_cast<size_t>(right - left + 1) * 4;
  for (int y = top; y <= bottom; y++) std::memcpy(shrow(y) + left * 4, fbrow(y) + left * 4, span);
  *out = {x0 + left, top, right - left + 1, bottom - top + 1};
  return true;
}

double Display::region_fps(int x, int y, int w, int h, int64_t now) const {
  int gw = (width_ + kCell - 1) / kCell;
  double best = 0;
  for (int cy = y / kCell; cy <= (y + h - 1) / kCell; cy++) {
    for (int cx = x / kCell; cx <= (x + w - 1) / kCell; cx++) {
      size_t i = static_cast<size_t>(cy * gw + cx);
      if (now - heat_last_[i] <= 1000) best = std::max(best, static_cast<double>(heat_fps_[i]));
    }
  }
  return best;
}

void Display::encode_jobs(std::vector<Job>* jobs) {
  size_t stride = static_cast<size_t>(width_) * 4;
  auto encode = [&](Job& j) {
    PixelView px{shadow_.data() + static_cast<size_t>(j.y) * stride + static_cast<size_t>(j.x) * 4,
                 static_cast<int>(stride), j.w, j.h};
    bool ok = false;
    if (j.format == 2) ok = encode_webp(px, j.quality, &j.data);
    else if (j.format == 1) ok = encode_jpeg(px, j.quality, &j.data);
    if (!ok) {
      j.format = 0;
      ok = encode_png(px, false, &j.data);
    }
    if (!ok) j.data.clear();
  };
  long total = 0;
  for (const auto& j : *jobs) total += static_cast<long>(j.w) * j.h;
  unsigned hw = std::thread::hardware_concurrency();
  unsigned helpers = hw > 1 ? std::min(hw - 1, 3u) : 0;
  if (jobs->size() < 2 || total < 64 * 1024 || helpers == 0) {
    for (auto& j : *jobs) encode(j);
    return;
  }
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i; (i = next.fetch_add(1)) < jobs->size();) encode((*jobs)[i]);
  };
  std::vector<std::thread> threads;
  try {
    for (unsigned t = 0; t < helpers && t + 1 < jobs->size(); t++) threads.emplace_back(worker);
  } catch (...) {
    // no threads (resource limits): the main thread does it all
  }
  worker();
  for (auto& t : threads) t.join();
}

bool Display::flush(rdpContext* context, int64_t now, bool force) {
  if (!force && next_flush_in(now) != 0) return false;
  rdpGdi* gdi = context ? context->gdi : nullptr;
  if (!gdi || !context->update) return false;

  std::vector<Copy> copies;
  int markers;
  bool resize;
  std::vector<Cell> changed;
  EnterCriticalSection(&context->update->mux);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    work_cells_.swap(pending_cells_);
    pending_cells_.assign(work_cells_.size(), 0);
    copies.swap(pending_copies_);
    markers = pending_markers_;
    resize = pending_resize_;
    pending_markers_ = 0;
    pending_resize_ = false;
    pending_any_ = false;
  }
  if (!gdi->primary_buffer || gdi->width == 0 || gdi->height == 0) {
    LeaveCriticalSection(&context->update->mux);
    return false;
  }
  int fbw = static_cast<int>(gdi->width), fbh = static_cast<int>(gdi->height);
  int gw = (fbw + kCell - 1) / kCell, gh = (fbh + kCell - 1) / kCell;
  bool sent_size = false;
  if (resize || fbw != width_ || fbh != height_) {
    sent_size = true;
    reset_shadow(fbw, fbh);
    out_->send({"size", "0", std::to_string(fbw), std::to_string(fbh)});
    copies.clear();
    work_cells_.assign(static_cast<size_t>(gw * gh), 1);
  } else if (work_cells_.size() != static_cast<size_t>(gw * gh)) {
    work_cells_.assign(static_cast<size_t>(gw * gh), 1);
  }
  uint64_t stats_copies_before = stats_.copies;
  for (Copy c : copies) {
    if (c.sx < 0 || c.sy < 0 || c.dx < 0 || c.dy < 0) continue;
    c.w = std::min({c.w, width_ - c.sx, width_ - c.dx});
    c.h = std::min({c.h, height_ - c.sy, height_ - c.dy});
    if (c.w <= 0 || c.h <= 0) continue;
    out_->send({"copy", "0", std::to_string(c.sx), std::to_string(c.sy), std::to_string(c.w),
                std::to_string(c.h), std::to_string(kMaskOver), "0", std::to_string(c.dx),
                std::to_string(c.dy)});
    apply_copy(c);
    stats_.copies++;
    for (int cy = c.dy / kCell; cy <= (c.dy + c.h - 1) / kCell; cy++) {
      for (int cx = c.dx / kCell; cx <= (c.dx + c.w - 1) / kCell; cx++) {
        work_cells_[static_cast<size_t>(cy * gw + cx)] = 1;
      }
    }
  }
  const uint8_t* fb = gdi->primary_buffer;
  int fb_stride = static_cast<int>(gdi->stride);
  std::vector<int> cell_of;  // changed[i] is grid cell cell_of[i]
  for (int cy = 0; cy < gh; cy++) {
    for (int cx = 0; cx < gw; cx++) {
      if (!work_cells_[static_cast<size_t>(cy * gw + cx)]) continue;
      Cell cell;
      if (diff_cell(fb, fb_stride, cx, cy, &cell)) {
        changed.push_back(cell);
        cell_of.push_back(cy * gw + cx);
      }
    }
  }
  LeaveCriticalSection(&context->update->mux);

  // Heat map: per-cell update rate.
  for (int c : cell_of) {
    auto i = static_cast<size_t>(c);
    int64_t dt = now - heat_last_[i];
    float inst = 1000.0f / static_cast<float>(std::max<int64_t>(dt, 10));
    heat_fps_[i] = dt > 1000 ? inst : 0.5f * heat_fps_[i] + 0.5f * inst;
    heat_last_[i] = now;
  }

  // Classify: solid cells (rect + cfill) and image cells.
  size_t stride = static_cast<size_t>(width_) * 4;
  auto view = [&](int x, int y, int w, int h) {
    return PixelView{shadow_.data() + static_cast<size_t>(y) * stride + static_cast<size_t>(x) * 4,
                     static_cast<int>(stride), w, h};
  };
  std::vector<int> kind(static_cast<size_t>(gw * gh), 0);  // 0 none, 1 solid, 2 image
  std::vector<int> index(static_cast<size_t>(gw * gh), -1);
  std::vector<uint32_t> color(changed.size(), 0);
  for (size_t i = 0; i < changed.size(); i++) {
    const Cell& c = changed[i];
    auto g = static_cast<size_t>(cell_of[i]);
    index[g] = static_cast<int>(i);
    kind[g] = uniform_color(view(c.x, c.y, c.w, c.h), &color[i]) ? 1 : 2;
  }
  // Solid runs, merged left to right when colour and rows match.
  for (int cy = 0; cy < gh; cy++) {
    for (int cx = 0; cx < gw; cx++) {
      auto g = static_cast<size_t>(cy * gw + cx);
      if (kind[g] != 1) continue;
      const Cell& first = changed[static_cast<size_t>(index[g])];
      uint32_t rgb = color[static_cast<size_t>(index[g])];
      Cell run = first;
      while (cx + 1 < gw) {
        auto n = static_cast<size_t>(cy * gw + cx + 1);
        if (kind[n] != 1) break;
        const Cell& next = changed[static_cast<size_t>(index[n])];
        if (color[static_cast<size_t>(index[n])] != rgb || next.y != run.y || next.h != run.h ||
            next.x != run.x + run.w) {
          break;
        }
        run.w += next.w;
        kind[n] = 0;
        cx++;
      }
      kind[g] = 0;
      out_->send({"rect", "0", std::to_string(run.x), std::to_string(run.y), std::to_string(run.w),
                  std::to_string(run.h)});
      out_->send({"cfill", std::to_string(kMaskOver), "0", std::to_string((rgb >> 16) & 0xFF),
                  std::to_string((rgb >> 8) & 0xFF), std::to_string(rgb & 0xFF), "255"});
      stats_.rects++;
    }
  }
  // Image blocks: up to 8x8 cells (512x512), the union of their changed boxes.
  constexpr int kSpan = kMaxImage / kCell;
  std::vector<Job> jobs;
  int quality = lossy_quality(pacer_.lag());
  for (int cy = 0; cy < gh; cy++) {
    for (int cx = 0; cx < gw; cx++) {
      if (kind[static_cast<size_t>(cy * gw + cx)] != 2) continue;
      int run = 1;
      while (run < kSpan && cx + run < gw && kind[static_cast<size_t>(cy * gw + cx + run)] == 2) run++;
      int rows = 1;
      while (rows < kSpan && cy + rows < gh) {
        bool all = true;
        for (int k = 0; k < run && all; k++) all = kind[static_cast<size_t>((cy + rows) * gw + cx + k)] == 2;
        if (!all) break;
        rows++;
      }
      int x0 = width_, y0 = height_, x1 = 0, y1 = 0;
      for (int r = 0; r < rows; r++) {
        for (int k = 0; k < run; k++) {
          auto g = static_cast<size_t>((cy + r) * gw + cx + k);
          const Cell& c = changed[static_cast<size_t>(index[g])];
          x0 = std::min(x0, c.x);
          y0 = std::min(y0, c.y);
          x1 = std::max(x1, c.x + c.w);
          y1 = std::max(y1, c.y + c.h);
          kind[g] = 0;
        }
      }
      Job job{x0, y0, x1 - x0, y1 - y0, 0, quality, {}};
      int area = job.w * job.h;
      if (!options_.force_lossless && (options_.webp || options_.jpeg) && area > kLossyMinArea &&
          region_fps(job.x, job.y, job.w, job.h, now) >= kLossyMinFps &&
          is_png_unfriendly(view(job.x, job.y, job.w, job.h))) {
        job.format = options_.webp ? 2 : 1;
      }
      jobs.push_back(std::move(job));
    }
  }
  encode_jobs(&jobs);
  for (const auto& j : jobs) {
    if (j.data.empty()) {
      log_warn("image encoding failed", {kv("x", j.x), kv("y", j.y), kv("w", j.w), kv("h", j.h)});
      continue;
    }
    int stream = streams_->alloc();
    if (stream < 0) break;
    out_->send_image(stream, kMaskOver, 0, kMimetypes[j.format], j.x, j.y, j.data);
    streams_->free(stream);
    stats_.images++;
    stats_.image_bytes += j.data.size();
  }
  if (!sent_size && stats_copies_before == stats_.copies && changed.empty()) {
    last_flush_ = now;
    return false;  // the paints changed nothing the client shows
  }
  int64_t ts = pacer_.next_timestamp(now);
  out_->send({"sync", std::to_string(ts), std::to_string(std::max(markers, 1))});
  stats_.frames++;
  last_flush_ = now;
  if (first_frame_at_ == 0) first_frame_at_ = now;
  return true;
}

}  // namespace gatehouse::rdp
