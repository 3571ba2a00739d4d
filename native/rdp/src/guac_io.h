// Guacamole instructions in C++: a bounded reader (GuacFramer from native/src validates; this decodes
// the complete instructions it finds), an encoder, and a buffered blocking writer for the output fd.
#ifndef GATEHOUSE_RDP_GUAC_IO_H_
#define GATEHOUSE_RDP_GUAC_IO_H_

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "guac_framer.h"

namespace gatehouse::rdp {

struct Instruction {
  std::string opcode;
  std::vector<std::string> args;
};

// guacd's limits: 8192 codepoints per element, 128 elements, 32 KiB per instruction.
class GuacReader {
 public:
  GuacReader() = default;
  // Scans `len` bytes, appending the instructions they complete to `out`. Returns false (and stays
  // failed) on malformed input; error() says why.
  bool feed(const uint8_t* data, size_t len, std::vector<Instruction>* out);
  const std::string& error() const { return error_; }
  size_t buffered() const { return pending_.size(); }

 private:
  GuacFramer framer_;
  std::string pending_;  // bytes of the incomplete trailing instruction (< 32 KiB)
  std::string error_;
};

// Number of codepoints in valid UTF-8 text (bytes that are not continuation bytes).
size_t codepoints(std::string_view text);
// `text` with every invalid UTF-8 sequence replaced by '?', so it can be sent as a value.
std::string sanitize_utf8(std::string_view text);
// Appends one encoded instruction.
void encode_instruction(std::string* out, std::initializer_list<std::string_view> elements);
std::string encode_instruction(std::initializer_list<std::string_view> elements);
// Standard base64 (with padding).
void base64_append(std::string* out, const uint8_t* data, size_t len);

// Buffered writer to a blocking fd, used by the main thread only. Write errors (EPIPE: the client is
// gone) make failed() true; later writes are dropped.
class GuacWriter {
 public:
  explicit GuacWriter(int fd) : fd_(fd) {}
  // A flag set by a signal handler: a write interrupted (EINTR) while it is non-zero fails instead of
  // retrying, so a terminating process does not stay blocked on a client that stopped reading.
  void set_interrupt_flag(const volatile int* flag) { interrupt_ = flag; }
  void send(std::initializer_list<std::string_view> elements);
  void append_raw(std::string_view encoded);
  // img + blob chunks (<= 6048 raw bytes each) + end for an encoded image.
  void send_image(int stream, int mask, int layer, std::string_view mimetype, int x, int y,
                  const std::vector<uint8_t>& data);
  // blob chunks (<= 6048 raw bytes each) of any stream, no end.
  void send_blobs(int stream, const uint8_t* data, size_t len);
  // Writes everything buffered. Returns false once writing has failed.
  bool flush();
  bool failed() const { return failed_; }
  size_t buffered() const { return buf_.size(); }
  // Frees what a big frame made the buffer grow to (a full-screen image is megabytes of base64), when it is
  // empty: for idle moments, not after every flush (the next busy frame would fault it all in again).
  void release_spare();
  uint64_t bytes_written() const { return written_; }

 private:
  int fd_;
  const volatile int* interrupt_ = nullptr;
  static constexpr size_t kKeepCapacity = 256 * 1024;
  std::string buf_;
  bool failed_ = false;
  uint64_t written_ = 0;
};

}  // namespace gatehouse::rdp

#endif  // GATEHOUSE_RDP_GUAC_IO_H_
