#include "rdpsnd_sink.h"

#include <cerrno>
#include <cstdlib>

#include "clock.h"
#include "log.h"
#include "status.h"

namespace gatehouse::rdp {

std::string AudioSink::mimetype(const PcmFormat& f) {
  return "audio/L16;rate=" + std::to_string(f.rate) + ",channels=" + std::to_string(f.channels);
}

void AudioSink::push(Event e) {
  bool post = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (detached_) return;
    if (e.kind == Event::Kind::kData) {
      if (queued_bytes_ + e.data.size() > kMaxQueuedBytes) {
        dropped_bytes_ += e.data.size();
        return;
      }
      queued_bytes_ += e.data.size();
    }
    events_.push_back(std::move(e));
    // Post a drain unless one is pending; again after a second (the session drops posts when its queue
    // is full, which would otherwise stop the audio for good).
    int64_t now = now_ms();
    if (!scheduled_ || now - scheduled_at_ > 1000) {
      scheduled_ = post = true;
      scheduled_at_ = now;
    }
  }
  if (post) {
    std::weak_ptr<AudioSink> weak = weak_from_this();
    api_->post([weak] {
      if (auto self = weak.lock()) self->drain();
    });
  }
}

void AudioSink::open(const PcmFormat& format) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    device_format_ = format;
  }
  PcmFormat out = format;
  out.bits = 16;
  push({Event::Kind::kOpen, out, {}});
}

void AudioSink::play(const uint8_t* data, size_t len) {
  PcmFormat f;
  {
    std::lock_guard<std::mutex> lock(mu_);
    f = device_format_;
  }
  if (f.rate == 0 || len == 0) return;
  std::string pcm;
  if (f.bits == 8) {  // unsigned 8-bit -> signed 16-bit little-endian
    pcm.resize(len * 2);
    for (size_t i = 0; i < len; i++) {
      auto s = static_cast<int16_t>((static_cast<int>(data[i]) - 128) * 256);
      auto u = static_cast<uint16_t>(s);
      pcm[2 * i] = static_cast<char>(u & 0xFF);
      pcm[2 * i + 1] = static_cast<char>(u >> 8);
    }
  } else {
    pcm.assign(reinterpret_cast<const char*>(data), len);
  }
  push({Event::Kind::kData, {}, std::move(pcm)});
}

void AudioSink::close() { push({Event::Kind::kClose, {}, {}}); }

void AudioSink::server_formats_received() {
  std::lock_guard<std::mutex> lock(mu_);
  if (formats_logged_) return;
  formats_logged_ = true;
  log_info("audio: the server announced its formats (rdpsnd negotiated, PCM only)");
}

void AudioSink::drain() {
  std::deque<Event> batch;
  uint64_t dropped;
  {
    std::lock_guard<std::mutex> lock(mu_);
    batch.swap(events_);
    queued_bytes_ = 0;
    scheduled_ = false;
    dropped = dropped_bytes_;
    dropped_bytes_ = 0;
    if (detached_) return;
  }
  if (dropped > 0) log_warn("audio dropped: the client is not keeping up", {kv("bytes", static_cast<int64_t>(dropped))});
  for (auto& e : batch) {
    switch (e.kind) {
      case Event::Kind::kOpen:
        if (stream_ >= 0 && !(e.format == format_)) end_stream();
        format_ = e.format;
        break;
      case Event::Kind::kClose:
        end_stream();
        break;
      case Event::Kind::kData: {
        if (refused_ || format_.rate == 0 || format_.channels == 0) break;
        if (stream_ < 0) {
          stream_ = api_->alloc_stream();
          if (stream_ < 0) {
            log_warn("audio dropped: no free stream");
            break;
          }
          api_->send({"audio", std::to_string(stream_), mimetype(format_)});
          log_info("audio stream opened", {kv("stream", stream_), kv("mimetype", mimetype(format_))});
        }
        size_t frame = static_cast<size_t>(format_.channels) * 2;
        carry_.append(e.data);
        size_t whole = carry_.size() / frame * frame;
        api_->send_blobs(stream_, reinterpret_cast<const uint8_t*>(carry_.data()), whole);
        bytes_sent_ += whole;
        carry_.erase(0, whole);
        break;
      }
    }
  }
}

void AudioSink::end_stream() {
  carry_.clear();
  if (stream_ < 0) return;
  api_->send({"end", std::to_string(stream_)});
  api_->free_stream(stream_);
  log_debug("audio stream ended", {kv("stream", stream_), kv("bytes", static_cast<int64_t>(bytes_sent_))});
  stream_ = -1;
}

bool AudioSink::on_ack(const Instruction& ins) {
  if (stream_ < 0 || ins.args.size() < 3 || ins.args[0] != std::to_string(stream_)) return false;
  errno = 0;
  char* end = nullptr;
  long st = std::strtol(ins.args[2].c_str(), &end, 10);
  if (errno != 0 || end == ins.args[2].c_str() || *end != '\0') st = status::kClientBadRequest;
  if (st >= status::kUnsupported) {
    log_warn("the client refused the audio stream; audio off for this session",
             {kv("status", static_cast<int64_t>(st)), kv("message", sanitize_utf8(ins.args[1].substr(0, 128)))});
    refused_ = true;
    carry_.clear();
    api_->free_stream(stream_);  // the client closed it; no `end`
    stream_ = -1;
  }
  return true;
}

void AudioSink::shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    detached_ = true;
    events_.clear();
  }
  end_stream();
}

}  // namespace gatehouse::rdp
