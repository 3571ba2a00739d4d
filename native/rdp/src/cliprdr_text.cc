#include "cliprdr_text.h"

namespace gatehouse::rdp::cliptext {

namespace {

constexpr uint32_t kReplacement = 0xFFFD;

// Windows-1252 0x80..0x9F (the five undefined bytes map to the C1 control of the same value, as
// Windows' own conversion does).
constexpr uint16_t kCp1252High[32] = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178};

size_t utf8_length(uint32_t cp) { return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4; }

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

bool parse_line_endings(std::string_view value, LineEndings* out) {
  if (value.empty() || value == "preserve") *out = LineEndings::kPreserve;
  else if (value == "unix") *out = LineEndings::kUnix;
  else if (value == "windows") *out = LineEndings::kWindows;
  else return false;
  return true;
}

std::string normalize_line_endings(std::string_view text, LineEndings mode) {
  if (mode == LineEndings::kPreserve) return std::string(text);
  std::string out;
  out.reserve(text.size() + (mode == LineEndings::kWindows ? text.size() / 16 : 0));
  for (size_t i = 0; i < text.size(); i++) {
    char c = text[i];
    if (mode == LineEndings::kUnix) {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') continue;  // CRLF -> LF
      out.push_back(c);
    } else {
      if (c == '\n' && (i == 0 || text[i - 1] != '\r')) out.push_back('\r');  // LF -> CRLF
      out.push_back(c);
    }
  }
  return out;
}

void append_utf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

uint32_t next_utf8(std::string_view text, size_t* pos) {
  auto byte = [&](size_t i) { return static_cast<uint8_t>(text[i]); };
  size_t i = *pos;
  uint8_t b0 = byte(i);
  *pos = i + 1;
  if (b0 < 0x80) return b0;
  size_t n;
  uint32_t cp, min;
  if ((b0 & 0xE0) == 0xC0) {
    n = 1, cp = b0 & 0x1Fu, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    n = 2, cp = b0 & 0x0Fu, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    n = 3, cp = b0 & 0x07u, min = 0x10000;
  } else {
    return kReplacement;
  }
  if (i + n >= text.size()) return kReplacement;  // truncated sequence
  for (size_t k = 1; k <= n; k++) {
    uint8_t b = byte(i + k);
    if ((b & 0xC0) != 0x80) return kReplacement;
    cp = (cp << 6) | (b & 0x3Fu);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return kReplacement;
  *pos = i + n + 1;
  return cp;
}

std::string utf16le_to_utf8(const uint8_t* data, size_t len, size_t max_bytes, bool* truncated) {
  std::string out;
  *truncated = false;
  size_t units = len / 2;
  for (size_t i = 0; i < units; i++) {
    uint32_t u = static_cast<uint32_t>(data[2 * i]) | (static_cast<uint32_t>(data[2 * i + 1]) << 8);
    if (u == 0) break;
    uint32_t cp = u;
    if (u >= 0xD800 && u <= 0xDBFF && i + 1 < units) {
      uint32_t lo = static_cast<uint32_t>(data[2 * i + 2]) | (static_cast<uint32_t>(data[2 * i + 3]) << 8);
      if (lo >= 0xDC00 && lo <= 0xDFFF) {
        cp = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
        i++;
      } else {
        cp = kReplacement;
      }
    } else if (u >= 0xD800 && u <= 0xDFFF) {
      cp = kReplacement;
    }
    if (out.size() + utf8_length(cp) > max_bytes) {
      *truncated = true;
      break;
    }
    append_utf8(cp, &out);
  }
  return out;
}

std::string cp1252_to_utf8(const uint8_t* data, size_t len, size_t max_bytes, bool* truncated) {
  std::string out;
  *truncated = false;
  for (size_t i = 0; i < len && data[i] != 0; i++) {
    uint8_t b = data[i];
    uint32_t cp = b >= 0x80 && b < 0xA0 ? kCp1252High[b - 0x80] : b;
    if (out.size() + utf8_length(cp) > max_bytes) {
      *truncated = true;
      break;
    }
    append_utf8(cp, &out);
  }
  return out;
}

std::vector<uint8_t> utf8_to_utf16le(std::string_view text) {
  std::vector<uint8_t> out;
  out.reserve(text.size() * 2 + 2);
  auto unit = [&](uint32_t u) {
    out.push_back(static_cast<uint8_t>(u & 0xFF));
    out.push_back(static_cast<uint8_t>(u >> 8));
  };
  size_t pos = 0;
  while (pos < text.size()) {
    uint32_t cp = next_utf8(text, &pos);
    if (cp == 0) cp = kReplacement;  // an embedded NUL would end the text early
    if (cp >= 0x10000) {
      cp -= 0x10000;
      unit(0xD800 + (cp >> 10));
      unit(0xDC00 + (cp & 0x3FF));
    } else {
      unit(cp);
    }
  }
  unit(0);
  return out;
}

std::vector<uint8_t> utf8_to_cp1252(std::string_view text) {
  std::vector<uint8_t> out;
  out.reserve(text.size() + 1);
  size_t pos = 0;
  while (pos < text.size()) {
    uint32_t cp = next_utf8(text, &pos);
    uint8_t b = '?';
    if (cp != 0 && (cp < 0x80 || (cp >= 0xA0 && cp <= 0xFF))) {
      b = static_cast<uint8_t>(cp);
    } else {
      for (uint8_t k = 0; k < 32; k++) {
        if (kCp1252High[k] == cp) {
          b = static_cast<uint8_t>(0x80 + k);
          break;
        }
      }
    }
    out.push_back(b);
  }
  out.push_back(0);
  return out;
}

bool base64_decode_append(std::string_view in, std::string* out) {
  size_t n = in.size();
  while (n > 0 && in[n - 1] == '=' && in.size() - n < 2) n--;
  if (n % 4 == 1) return false;
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < n; i++) {
    int v = base64_value(in[i]);
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return true;
}

}  // namespace gatehouse::rdp::cliptext
