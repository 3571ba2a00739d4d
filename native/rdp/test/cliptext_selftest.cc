// Self-test of the clipboard text conversions (src/cliprdr_text.*): UTF-16LE <-> UTF-8 with surrogate pairs
// (which xrdp 0.9, the e2e test server, cannot carry), repairs of invalid input, Windows-1252, limits,
// line endings, base64. Run by test/native/rdp-selftests.test.ts.
//   gatehouse-rdp-cliptext-selftest   exit 0 when every check passes; failures are printed to stderr.
#include <cstdio>
#include <string>
#include <vector>

#include "selftest_check.h"
#include "cliprdr_text.h"

using namespace gatehouse::rdp::cliptext;

using selftest::check;

namespace {

std::vector<uint8_t> bytes(std::initializer_list<int> b) {
  std::vector<uint8_t> v;
  for (int x : b) v.push_back(static_cast<uint8_t>(x));
  return v;
}

std::string from16(const std::vector<uint8_t>& v, size_t max = 1 << 20, bool* cut = nullptr) {
  bool t = false;
  std::string s = utf16le_to_utf8(v.data(), v.size(), max, &t);
  if (cut) *cut = t;
  return s;
}

}  // namespace

int main() {
  // UTF-8 -> UTF-16LE + NUL, and back, for ASCII, BMP and astral characters.
  const std::string text = "A\xC3\xA9\xE2\x82\xAC\xF0\x9F\x8E\x89";  // A é € 🎉
  auto u16 = utf8_to_utf16le(text);
  check(u16 == bytes({0x41, 0, 0xE9, 0, 0xAC, 0x20, 0x3C, 0xD8, 0x89, 0xDF, 0, 0}),
        "utf8_to_utf16le: A, e-acute, euro, a surrogate pair, NUL");
  check(from16(u16) == text, "utf16le_to_utf8 round trip (stops at the NUL)");
  check(from16(bytes({0x41, 0, 0, 0, 0x42, 0})) == "A", "utf16le_to_utf8 stops at the first NUL");
  check(from16(bytes({0x41, 0, 0x42})) == "A", "an odd trailing byte is ignored");
  check(from16(bytes({0x3C, 0xD8, 0x41, 0})) == "\xEF\xBF\xBD" "A", "a lone high surrogate becomes U+FFFD");
  check(from16(bytes({0x89, 0xDF})) == "\xEF\xBF\xBD", "a lone low surrogate becomes U+FFFD");
  check(from16(bytes({0x3C, 0xD8})) == "\xEF\xBF\xBD", "a high surrogate at the end becomes U+FFFD");
  bool cut = false;
  check(from16(u16, 4, &cut) == "A\xC3\xA9" && cut, "the limit cuts before a character that does not fit");
  check(from16(u16, 1 << 20, &cut) == text && !cut, "no cut under the limit");

  // Invalid UTF-8 is repaired, an embedded NUL does not end the text early.
  check(utf8_to_utf16le("a\xFF" "b") == bytes({0x61, 0, 0xFD, 0xFF, 0x62, 0, 0, 0}), "invalid byte -> U+FFFD");
  check(utf8_to_utf16le("\xE2\x82") == bytes({0xFD, 0xFF, 0xFD, 0xFF, 0, 0}), "truncated sequence -> U+FFFD");
  check(utf8_to_utf16le("\xC0\xAF") == bytes({0xFD, 0xFF, 0xFD, 0xFF, 0, 0}), "overlong form -> U+FFFD");
  check(utf8_to_utf16le("\xED\xA0\x80") == bytes({0xFD, 0xFF, 0xFD, 0xFF, 0xFD, 0xFF, 0, 0}),
        "an encoded surrogate -> U+FFFD");
  check(utf8_to_utf16le(std::string("a\0b", 3)) == bytes({0x61, 0, 0xFD, 0xFF, 0x62, 0, 0, 0}), "NUL -> U+FFFD");
  check(utf8_to_utf16le("") == bytes({0, 0}), "empty text is a lone NUL");

  // Windows-1252.
  auto cp = bytes({0x41, 0x80, 0xE9, 0x9F, 0x81, 0, 0x42});
  check(cp1252_to_utf8(cp.data(), cp.size(), 1 << 20, &cut) ==
            "A\xE2\x82\xAC\xC3\xA9\xC5\xB8\xC2\x81",
        "cp1252_to_utf8: euro, e-acute, Y-diaeresis, an undefined byte; stops at NUL");
  check(utf8_to_cp1252("A\xE2\x82\xAC\xC3\xA9\xE4\xB8\x96") == bytes({0x41, 0x80, 0xE9, '?', 0}),
        "utf8_to_cp1252: euro, e-acute, '?' for a character it lacks, NUL");

  // Line endings.
  LineEndings le;
  check(parse_line_endings("", &le) && le == LineEndings::kPreserve, "'' is preserve");
  check(parse_line_endings("unix", &le) && le == LineEndings::kUnix, "unix");
  check(parse_line_endings("windows", &le) && le == LineEndings::kWindows, "windows");
  check(!parse_line_endings("mac", &le), "mac is refused");
  check(normalize_line_endings("a\r\nb\nc\r", LineEndings::kUnix) == "a\nb\nc\r", "unix: CRLF -> LF only");
  check(normalize_line_endings("a\r\nb\nc", LineEndings::kWindows) == "a\r\nb\r\nc", "windows: lone LF -> CRLF");
  check(normalize_line_endings("\n", LineEndings::kWindows) == "\r\n", "windows: leading LF");
  check(normalize_line_endings("a\nb", LineEndings::kPreserve) == "a\nb", "preserve");

  // Base64.
  std::string out;
  check(base64_decode_append("aGVsbG8=", &out) && out == "hello", "base64 with padding");
  out.clear();
  check(base64_decode_append("aGVsbG8", &out) && out == "hello", "base64 without padding");
  out.clear();
  check(base64_decode_append("", &out) && out.empty(), "empty base64");
  check(!base64_decode_append("aGV sbG8=", &out), "a space is refused");
  check(!base64_decode_append("a", &out), "a single character is refused");
  check(!base64_decode_append("aGVsbG8===", &out), "three pad characters are refused");

  return selftest::result();
}
