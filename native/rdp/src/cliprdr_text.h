// Clipboard text conversions for the cliprdr module, sans I/O: the Windows clipboard formats
// (CF_UNICODETEXT: UTF-16LE, CF_TEXT: Windows-1252, both NUL-terminated) to and from the UTF-8 the
// Guacamole client speaks, line-ending normalisation (`normalize-clipboard`), base64 decoding of
// client blobs. Invalid input is repaired (U+FFFD), never refused.
#ifndef GATEHOUSE_RDP_CLIPRDR_TEXT_H_
#define GATEHOUSE_RDP_CLIPRDR_TEXT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::rdp::cliptext {

// `normalize-clipboard`: preserve (default, also ""), unix (CRLF -> LF), windows (lone LF -> CRLF).
enum class LineEndings { kPreserve, kUnix, kWindows };
bool parse_line_endings(std::string_view value, LineEndings* out);
std::string normalize_line_endings(std::string_view text, LineEndings mode);

// CF_UNICODETEXT -> UTF-8: up to the first NUL code unit (or the end; an odd last byte is ignored),
// unpaired surrogates as U+FFFD. Stops before the output would exceed `max_bytes` (then *truncated).
std::string utf16le_to_utf8(const uint8_t* data, size_t len, size_t max_bytes, bool* truncated);
// CF_TEXT (Windows-1252) -> UTF-8, up to the first NUL, with the same limit.
std::string cp1252_to_utf8(const uint8_t* data, size_t len, size_t max_bytes, bool* truncated);

// UTF-8 (invalid sequences as U+FFFD) -> UTF-16LE with a terminating NUL (CF_UNICODETEXT).
std::vector<uint8_t> utf8_to_utf16le(std::string_view text);
// UTF-8 -> Windows-1252 with a terminating NUL (CF_TEXT); characters it lacks become '?'.
std::vector<uint8_t> utf8_to_cp1252(std::string_view text);

// Standard base64 (padding optional, no whitespace) appended to *out; false on any other character.
bool base64_decode_append(std::string_view in, std::string* out);

// The next code point of UTF-8 `text` at *pos (advanced); invalid or truncated sequences, overlong
// forms and surrogates give U+FFFD and advance one byte.
uint32_t next_utf8(std::string_view text, size_t* pos);
void append_utf8(uint32_t cp, std::string* out);

}  // namespace gatehouse::rdp::cliptext

#endif  // GATEHOUSE_RDP_CLIPRDR_TEXT_H_
