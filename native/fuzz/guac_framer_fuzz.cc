// libFuzzer target for the C++ Guacamole framer (native/src/guac_framer.h).
//
// The input is the raw stream, so the seed corpus (native/fuzz/corpus/) is plain Guacamole traffic. A hash
// of the input picks a split point, chunk sizes and a second, small set of limits; every input is checked
// under guacd's default limits and under those small ones. Invariants (a violation aborts, which libFuzzer
// reports as a crash):
//   - a straightforward reference scanner (no fast path, written from docs/guacamole-codec.md) and the
//     framer fed one byte at a time agree on every instruction end offset and on the error code/offset;
//   - fed whole, split at the chosen point (with an empty chunk at the seam), or in hash-driven chunk
//     sizes, the framer returns for each chunk exactly the last instruction end inside that chunk (or
//     -1), in range (0 < r <= chunk length), reports the same error at the same absolute offset, stays
//     dead afterwards, and counts bytes_seen consistently.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "../src/guac_framer.h"

using gatehouse::GuacFramer;
using gatehouse::GuacLimits;

namespace {

#define FUZZ_CHECK(cond)                                                          \
  do {                                                                            \
    if (!(cond)) {                                                                \
      std::fprintf(stderr, "invariant failed at %s:%d: %s\n", __FILE__, __LINE__, \
                   #cond);                                                        \
      std::abort();                                                               \
    }                                                                             \
  } while (0)

struct Outcome {
  std::vector<uint64_t> ends;  // absolute end offsets of completed instructions
  int error = 0;
  uint64_t error_offset = 0;
};

// Reference scanner: one byte at a time, no shortcuts, straight from the spec.
Outcome Reference(const GuacLimits& lim, const uint8_t* data, size_t size) {
  Outcome out;
  enum { LENGTH, VALUE, SEPARATOR } phase = LENGTH;
  uint64_t length = 0, digits = 0, remaining = 0, elements = 0, bytes = 0;
  int need = 0;
  uint8_t lo = 0x80, hi = 0xBF;
  for (size_t i = 0; i < size; ++i) {
    const uint8_t b = data[i];
    int err = 0;
    bytes += 1;
    if (bytes > lim.max_instruction_bytes) {
      err = 4;
    } else if (phase == LENGTH) {
      if (digits == 0) elements += 1;
      if (digits == 0 && elements > lim.max_elements) {
        err = 3;
      } else if (b >= '0' && b <= '9') {
        length = length * 10 + (b - '0');
        digits += 1;
        if (length > lim.max_element_length) err = 2;
      } else if (b == '.' && digits > 0) {
        if (length == 0) {
          phase = SEPARATOR;
        } else {
          remaining = length;
          phase = VALUE;
        }
      } else {
        err = 1;
      }
    } else if (phase == VALUE) {
      bool done = false;
      if (need > 0) {
        if (b < lo || b > hi) {
          err = 5;
        } else {
          lo = 0x80;
          hi = 0xBF;
          need -= 1;
          done = need == 0;
        }
      } else if (b <= 0x7F) {
        done = true;
      } else if (b >= 0xC2 && b <= 0xDF) {
        need = 1;
      } else if (b == 0xE0) {
        need = 2;
        lo = 0xA0;
      } else if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) {
        need = 2;
      } else if (b == 0xED) {
        need = 2;
        hi = 0x9F;
      } else if (b == 0xF0) {
        need = 3;
        lo = 0x90;
      } else if (b >= 0xF1 && b <= 0xF3) {
        need = 3;
      } else if (b == 0xF4) {
        need = 3;
        hi = 0x8F;
      } else {
        err = 5;
      }
      if (done) {
        remaining -= 1;
        if (remaining == 0) phase = SEPARATOR;
      }
    } else {
      if (b == ',') {
        phase = LENGTH;
        length = digits = 0;
      } else if (b == ';') {
        out.ends.push_back(i + 1);
        phase = LENGTH;
        length = digits = elements = bytes = 0;
      } else {
        err = 6;
      }
    }
    if (err != 0) {
      out.error = err;
      out.error_offset = i;
      return out;
    }
  }
  return out;
}

// Feeds `size` bytes in chunks of the given sizes (cycled; a 0 means an empty push before the next
// chunk) and checks every per-chunk result against `expected`.
void CheckChunked(const GuacLimits& lim, const uint8_t* data, size_t size, const std::vector<size_t>& sizes,
                  const Outcome& expected) {
  GuacFramer f(lim);
  uint64_t pos = 0;
  size_t next_end = 0;  // index into expected.ends of the first end not yet reported
  bool dead = false;
  uint64_t seen_at_death = 0;
  size_t k = 0;
  while (pos < size || k == 0) {
    size_t n = sizes.empty() ? size : sizes[k % sizes.size()];
    ++k;
    if (n > size - pos) n = size - pos;
    const int64_t r = f.push(data + pos, n);
    const uint64_t start = pos, end = pos + n;
    pos = end;
    if (dead) {
      FUZZ_CHECK(r == GuacFramer::kError);
      FUZZ_CHECK(f.bytes_seen() == seen_at_death);
      continue;
    }
    // Instruction ends that fall inside (start, end], cut short by an error inside this chunk.
    const bool fails_here = expected.error != 0 && expected.error_offset >= start && expected.error_offset < end;
    int64_t want = GuacFramer::kNone;
    while (next_end < expected.ends.size() && expected.ends[next_end] <= end) {
      want = static_cast<int64_t>(expected.ends[next_end] - start);
      ++next_end;
    }
    if (fails_here) {
      FUZZ_CHECK(r == GuacFramer::kError);
      FUZZ_CHECK(f.error_code() == expected.error);
      FUZZ_CHECK(f.error_offset() == expected.error_offset);
      FUZZ_CHECK(f.bytes_seen() == end);
      dead = true;
      seen_at_death = end;
      continue;
    }
    FUZZ_CHECK(r == want);
    FUZZ_CHECK(r == GuacFramer::kNone || (r > 0 && static_cast<uint64_t>(r) <= n));
    FUZZ_CHECK(f.error_code() == 0);
    FUZZ_CHECK(f.bytes_seen() == end);
    if (n == 0 && pos >= size) break;
  }
  FUZZ_CHECK(next_end == expected.ends.size());
  FUZZ_CHECK(dead == (expected.error != 0));
  // A dead framer stays dead on an empty push too.
  if (dead) FUZZ_CHECK(f.push(data, 0) == GuacFramer::kError);
}

GuacLimits PickLimits(uint8_t sel) {
  GuacLimits lim;  // guacd defaults
  const uint8_t v = sel >> 2;
  switch (sel & 3) {
    case 0:
      break;
    case 1:  // short values, few elements
      lim.max_element_length = v & 15;
      lim.max_elements = 1 + (v >> 4);
      break;
    case 2:  // small instruction byte budget (exercises the fast path's bound)
      lim.max_instruction_bytes = 1 + v * 3u;
      break;
    default:  // everything small, zero allowed
      lim.max_element_length = v & 7;
      lim.max_elements = (v >> 3) & 7;
      lim.max_instruction_bytes = v * 2u;
      break;
  }
  return lim;
}

uint32_t Fnv1a(const uint8_t* data, size_t size) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < size; ++i) h = (h ^ data[i]) * 16777619u;
  return h;
}

void CheckAll(const GuacLimits& lim, const uint8_t* data, size_t size, uint32_t seed) {
  const Outcome ref = Reference(lim, data, size);

  // One byte at a time: every instruction end is observable.
  {
    GuacFramer f(lim);
    Outcome got;
    for (size_t i = 0; i < size; ++i) {
      const int64_t r = f.push(data + i, 1);
      if (r == GuacFramer::kError) {
        got.error = f.error_code();
        got.error_offset = f.error_offset();
        FUZZ_CHECK(got.error >= 1 && got.error <= 6);
        break;
      }
      FUZZ_CHECK(r == GuacFramer::kNone || r == 1);
      if (r == 1) got.ends.push_back(i + 1);
    }
    FUZZ_CHECK(got.ends == ref.ends);
    FUZZ_CHECK(got.error == ref.error);
    FUZZ_CHECK(got.error == 0 || got.error_offset == ref.error_offset);
  }

  // Whole.
  CheckChunked(lim, data, size, {}, ref);
  // Split at a point chosen from the data, with an empty push at the seam.
  const size_t split = size == 0 ? 0 : static_cast<size_t>(seed) % (size + 1);
  CheckChunked(lim, data, size, {split, 0, size}, ref);
  // Data-driven chunk sizes 0..31.
  std::vector<size_t> sizes;
  for (size_t i = 0; i < 8; ++i) sizes.push_back((seed >> (i * 4)) & 31);
  sizes.push_back(1 + (seed & 7));  // never all zero
  CheckChunked(lim, data, size, sizes, ref);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const uint32_t h = Fnv1a(data, size);
  CheckAll(GuacLimits{}, data, size, h);
  CheckAll(PickLimits(static_cast<uint8_t>(h >> 24)), data, size, h * 2654435761u);
  return 0;
}
