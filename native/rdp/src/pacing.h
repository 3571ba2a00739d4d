// Frame pacing from the client's `sync` replies (as src/engine/display/pacing.ts): every frame ends
// with sync,<ts> (ts strictly increasing, our monotonic ms); the reply's lag is now - ts.
#ifndef GATEHOUSE_RDP_PACING_H_
#define GATEHOUSE_RDP_PACING_H_

#include <cstdint>
#include <deque>

namespace gatehouse::rdp {

class Pacer {
 public:
  static constexpr int kMaxInFlight = 3;
  static constexpr int64_t kMaxLagMs = 250;

  int64_t next_timestamp(int64_t now) {
    int64_t ts = now > last_sent_ ? now : last_sent_ + 1;
    last_sent_ = ts;
    unanswered_.push_back(ts);
    if (unanswered_.size() > 256) unanswered_.pop_front();
    return ts;
  }
  // false for a timestamp never sent (or not newer than the last answer).
  bool ack(int64_t ts, int64_t now) {
    if (ts > last_sent_ || ts <= last_acked_) return false;
    last_acked_ = ts;
    while (!unanswered_.empty() && unanswered_.front() <= ts) unanswered_.pop_front();
    lag_ = now - ts < 0 ? 0 : now - ts;
    return true;
  }
  int64_t lag() const { return lag_; }
  int in_flight() const { return static_cast<int>(unanswered_.size()); }
  bool behind() const {
    return !unanswered_.empty() && (in_flight() >= kMaxInFlight || lag_ > kMaxLagMs);
  }
  int64_t last_sent() const { return last_sent_; }

 private:
  int64_t last_sent_ = 0;
  int64_t last_acked_ = 0;
  int64_t lag_ = 0;
  std::deque<int64_t> unanswered_;
};

// Lossy quality from the processing lag (guacd): 90 - (lag - 20), clamped to 30..90.
inline int lossy_quality(int64_t lag_ms) {
  int64_t q = 90 - (lag_ms - 20);
  return static_cast<int>(q < 30 ? 30 : q > 90 ? 90 : q);
}

}  // namespace gatehouse::rdp

#endif  // GATEHOUSE_RDP_PACING_H_
