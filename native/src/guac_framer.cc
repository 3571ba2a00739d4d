// See guac_framer.h and docs/guacamole-codec.md ("The scanning state machine").
#include "guac_framer.h"

#include <algorithm>
#include <cstring>

namespace gatehouse {

namespace {

constexpr uint64_t kHighBits = 0x8080808080808080ULL;

// Length of the run of ASCII bytes (00-7F) at the start of data[0..n).
inline size_t AsciiRun(const uint8_t* data, size_t n) {
  size_t k = 0;
  while (n - k >= 8) {
    uint64_t word;
    std::memcpy(&word, data + k, sizeof word);
    if (word & kHighBits) break;
    k += 8;
  }
  while (k < n && data[k] < 0x80) ++k;
  return k;
}

}  // namespace

int64_t GuacFramer::fail(ScanError code, size_t index, size_t len) {
  error_ = code;
  error_offset_ = bytes_seen_ + index;
  bytes_seen_ += len;
  return kError;
}

int64_t GuacFramer::push(const uint8_t* data, size_t len) {
  if (error_ != ScanError::kNone) return kError;

  const uint64_t max_instruction_bytes = limits_.max_instruction_bytes;
  const uint64_t max_elements = limits_.max_elements;
  const uint64_t max_element_length = limits_.max_element_length;
  State s = state_;
  int64_t last = kNone;
  size_t i = 0;
  while (i < len) {
    // Hot path: ASCII inside a value (base64 blobs, most text). Each ASCII byte is one codepoint and one
    // instruction byte, so a run can be taken at once, bounded by the codepoints left in the value and by
    // the instruction byte budget (the byte that breaks the budget goes through the slow path below).
    if (s.phase == Phase::kValue && s.utf8_need == 0) {
      const uint64_t budget = max_instruction_bytes - s.instruction_bytes;
      const size_t n =
          static_cast<size_t>(std::min<uint64_t>({static_cast<uint64_t>(len - i), s.remaining, budget}));
      const size_t k = AsciiRun(data + i, n);
      if (k > 0) {
        i += k;
        s.remaining -= k;
        s.instruction_bytes += k;
        if (s.remaining == 0) s.phase = Phase::kSeparator;
        continue;
      }
    }

    const uint8_t b = data[i];
    if (++s.instruction_bytes > max_instruction_bytes) {
      return fail(ScanError::kInstructionTooLong, i, len);
    }

    switch (s.phase) {
      case Phase::kLength:
        if (s.digits == 0 && ++s.elements > max_elements) {
          return fail(ScanError::kTooManyElements, i, len);
        }
        if (b >= '0' && b <= '9') {
          // s.length <= max_element_length here, so this cannot overflow for limits below 2^60.
          s.length = s.length * 10 + static_cast<uint64_t>(b - '0');
          ++s.digits;
          if (s.length > max_element_length) {
            return fail(ScanError::kElementTooLong, i, len);
          }
        } else if (b == '.' && s.digits > 0) {
          if (s.length == 0) {
            s.phase = Phase::kSeparator;
          } else {
            s.remaining = s.length;
            s.phase = Phase::kValue;
          }
        } else {
          return fail(ScanError::kBadLength, i, len);
        }
        break;

      case Phase::kValue:
        if (s.utf8_need == 0) {
          // Lead byte. ASCII is normally consumed by the hot path above; this keeps the slow path
          // complete on its own.
          if (b < 0x80) {
            if (--s.remaining == 0) s.phase = Phase::kSeparator;
          } else if (b >= 0xC2 && b <= 0xDF) {
            s.utf8_need = 1;
            s.utf8_lo = 0x80;
            s.utf8_hi = 0xBF;
          } else if (b >= 0xE0 && b <= 0xEF) {
            s.utf8_need = 2;
            s.utf8_lo = b == 0xE0 ? 0xA0 : 0x80;
            s.utf8_hi = b == 0xED ? 0x9F : 0xBF;
          } else if (b >= 0xF0 && b <= 0xF4) {
            s.utf8_need = 3;
            s.utf8_lo = b == 0xF0 ? 0x90 : 0x80;
            s.utf8_hi = b == 0xF4 ? 0x8F : 0xBF;
          } else {
            return fail(ScanError::kInvalidUtf8, i, len);
          }
        } else {
          if (b < s.utf8_lo || b > s.utf8_hi) {
            return fail(ScanError::kInvalidUtf8, i, len);
          }
          s.utf8_lo = 0x80;
          s.utf8_hi = 0xBF;
          if (--s.utf8_need == 0 && --s.remaining == 0) s.phase = Phase::kSeparator;
        }
        break;

      case Phase::kSeparator:
        if (b == ',') {
          s.phase = Phase::kLength;
          s.length = 0;
          s.digits = 0;
        } else if (b == ';') {
          last = static_cast<int64_t>(i) + 1;
          s.phase = Phase::kLength;
          s.length = 0;
          s.digits = 0;
          s.elements = 0;
          s.instruction_bytes = 0;
        } else {
          return fail(ScanError::kBadSeparator, i, len);
        }
        break;
    }
    ++i;
  }
  state_ = s;
  bytes_seen_ += len;
  return last;
}

}  // namespace gatehouse
