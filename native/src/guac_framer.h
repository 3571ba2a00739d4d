// Guacamole instruction framer: the C++ twin of src/protocol/guacamole/framer.ts.
//
// Both run the byte-level state machine of docs/guacamole-codec.md, so they accept and reject the same
// streams at the same absolute byte, however the stream is split into chunks. Plain C++17, no Node
// dependency: the N-API addon (addon.cc) and the libFuzzer target (../fuzz) both link it.
#ifndef GATEHOUSE_GUAC_FRAMER_H_
#define GATEHOUSE_GUAC_FRAMER_H_

#include <cstddef>
#include <cstdint>

namespace gatehouse {

// Numeric values are shared with ScanErrorCode in src/protocol/guacamole/errors.ts.
enum class ScanError : int {
  kNone = 0,
  kBadLength = 1,
  kElementTooLong = 2,
  kTooManyElements = 3,
  kInstructionTooLong = 4,
  kInvalidUtf8 = 5,
  kBadSeparator = 6,
};

struct GuacLimits {
  uint64_t max_element_length = 8192;      // codepoints in one value
  uint64_t max_elements = 128;             // elements in one instruction, opcode included
  uint64_t max_instruction_bytes = 32768;  // bytes in one instruction, its ';' included
};

class GuacFramer {
 public:
  // push() result when no instruction completed in the chunk.
  static constexpr int64_t kNone = -1;
  // push() result when the stream is malformed (now, or in an earlier chunk).
  static constexpr int64_t kError = -2;

  GuacFramer() = default;
  explicit GuacFramer(const GuacLimits& limits) : limits_(limits) {}

  // Scans `len` bytes. Returns the offset within this chunk just past the last instruction completed
  // in it, kNone if none completed, or kError. After an error the framer is dead: every later call
  // returns kError and error_code()/error_offset() keep describing the first error.
  int64_t push(const uint8_t* data, size_t len);

  ScanError error() const { return error_; }
  int error_code() const { return static_cast<int>(error_); }
  // Absolute stream offset (0-based) of the byte that caused the error; meaningful only after an error.
  uint64_t error_offset() const { return error_offset_; }
  // Total bytes passed to push(), the chunk that failed included; later calls add nothing.
  uint64_t bytes_seen() const { return bytes_seen_; }
  const GuacLimits& limits() const { return limits_; }

 private:
  enum class Phase : uint32_t { kLength, kValue, kSeparator };

  // The scanner state between chunks. push() works on a local copy, written back at the end: reads
  // through a uint8_t* may alias any object, so state kept in members would be reloaded after every
  // input byte instead of staying in registers.
  struct State {
    // 32-bit and not adjacent on purpose: with two adjacent uint8_t fields, g++ 12 tests
    // `phase == kValue && utf8_need == 0` as one 16-bit load after two byte stores to the stack, a
    // store-forwarding stall on every input byte (3x slower on short instructions).
    Phase phase = Phase::kLength;
    uint64_t length = 0;             // value of the length digits read so far
    uint32_t utf8_need = 0;          // continuation bytes still expected for the current character
    uint32_t utf8_lo = 0x80;         // valid range of the next continuation byte
    uint32_t utf8_hi = 0xBF;
    uint64_t digits = 0;             // number of length digits read so far
    uint64_t remaining = 0;          // codepoints still to read in the current value
    uint64_t elements = 0;           // elements started in this instruction
    uint64_t instruction_bytes = 0;  // bytes consumed by this instruction so far
  };

  int64_t fail(ScanError code, size_t index, size_t len);

  GuacLimits limits_;
  State state_;
  uint64_t bytes_seen_ = 0;  // absolute offset of the next chunk's first byte
  ScanError error_ = ScanError::kNone;
  uint64_t error_offset_ = 0;
};

}  // namespace gatehouse

#endif  // GATEHOUSE_GUAC_FRAMER_H_
