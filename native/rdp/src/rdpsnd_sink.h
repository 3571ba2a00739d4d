// Played PCM -> a Guacamole `audio` stream (`audio/L16;rate=R,channels=C`, blobs <= 6048 bytes of
// whole sample frames). FreeRDP's rdpsnd device callbacks (rdpsnd_device.cc), on FreeRDP's threads,
// queue events here (bounded: past kMaxQueuedBytes new audio is dropped); the main thread drains them
// (posted) and owns the stream: opened with the first data of a format, ended on Close, on a format
// change and at shutdown. A client that refuses the stream (ack status >= 0x0100) gets no more audio.
#ifndef GATEHOUSE_RDP_RDPSND_SINK_H_
#define GATEHOUSE_RDP_RDPSND_SINK_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>

#include "channel_hooks.h"

namespace gatehouse::rdp {

struct PcmFormat {
  uint32_t rate = 0;      // samples per second; 0: not a format we forward
  uint16_t channels = 0;
  uint16_t bits = 0;      // of the data given to play(): 8 (unsigned) or 16 (signed LE)
  bool operator==(const PcmFormat& o) const { return rate == o.rate && channels == o.channels && bits == o.bits; }
};

class AudioSink : public std::enable_shared_from_this<AudioSink> {
 public:
  static constexpr size_t kMaxQueuedBytes = 2 * 1024 * 1024;

  explicit AudioSink(SessionApi* api) : api_(api) {}

  // Any thread.
  void open(const PcmFormat& format);
  void play(const uint8_t* data, size_t len);  // in the format of the last open()
  void close();
  void server_formats_received();               // for the log: rdpsnd negotiated
  // Main thread.
  bool on_ack(const Instruction& ins);
  void shutdown();  // ends the stream; later events are ignored

  // The Guacamole mimetype for a format (16-bit out).
  static std::string mimetype(const PcmFormat& f);

 private:
  struct Event {
    enum class Kind { kOpen, kData, kClose } kind;
    PcmFormat format;
    std::string data;  // kData: 16-bit PCM
  };
  void push(Event e);
  void drain();
  void end_stream();

  SessionApi* api_;
  std::mutex mu_;
  std::deque<Event> events_;
  size_t queued_bytes_ = 0;
  bool scheduled_ = false;
  int64_t scheduled_at_ = 0;
  bool detached_ = false;
  bool formats_logged_ = false;
  PcmFormat device_format_;  // under mu_: what play() converts from
  uint64_t dropped_bytes_ = 0;

  // Main thread only.
  PcmFormat format_;
  int stream_ = -1;
  std::string carry_;  // bytes of an incomplete sample frame
  bool refused_ = false;
  uint64_t bytes_sent_ = 0;
};

// Registers the in-process rdpsnd device "gatehouse" (FreeRDP's addin provider; once per process)
// and makes `sink` the target of the devices FreeRDP creates from now on.
void register_rdpsnd_device(const std::shared_ptr<AudioSink>& sink);
// The subsystem name for the rdpsnd channel's "sys:" argument.
inline constexpr const char* kRdpsndSubsystem = "gatehouse";

}  // namespace gatehouse::rdp

#endif  // GATEHOUSE_RDP_RDPSND_SINK_H_
