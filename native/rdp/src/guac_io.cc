#include "guac_io.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>

namespace gatehouse::rdp {

namespace {

// Decodes one framer-validated instruction starting at `p`; returns the position after its ';'.
size_t decode_one(const std::string& s, size_t p, Instruction* ins) {
  ins->opcode.clear();
  ins->args.clear();
  bool first = true;
  for (;;) {
    size_t len = 0;
    while (s[p] != '.') len = len * 10 + static_cast<size_t>(s[p++] - '0');
    p++;  // '.'
    size_t start = p;
    for (size_t cp = 0; cp < len; cp++) {
      auto c = static_cast<unsigned char>(s[p]);
      p += c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    }
    if (first) {
      ins->opcode.assign(s, start, p - start);
      first = false;
    } else {
      ins->args.emplace_back(s, start, p - start);
    }
    char sep = s[p++];
    if (sep == ';') return p;
  }
}

const char* scan_error_text(ScanError e) {
  switch (e) {
    case ScanError::kBadLength: return "bad length prefix";
    case ScanError::kElementTooLong: return "element longer than 8192 characters";
    case ScanError::kTooManyElements: return "more than 128 elements";
    case ScanError::kInstructionTooLong: return "instruction longer than 32768 bytes";
    case ScanError::kInvalidUtf8: return "invalid UTF-8";
    case ScanError::kBadSeparator: return "bad separator";
    case ScanError::kNone: break;
  }
  return "malformed instruction";
}

}  // namespace

bool GuacReader::feed(const uint8_t* data, size_t len, std::vector<Instruction>* out) {
  if (!error_.empty()) return false;
  int64_t end = framer_.push(data, len);
  if (end == GuacFramer::kError) {
    error_ = std::string("Malformed Guacamole instruction: ") + scan_error_text(framer_.error()) +
             " at byte " + std::to_string(framer_.error_offset());
    pending_.clear();
    return false;
  }
  if (end == GuacFramer::kNone) {
    pending_.append(reinterpret_cast<const char*>(data), len);
    return true;
  }
  auto cut = static_cast<size_t>(end);
  pending_.append(reinterpret_cast<const char*>(data), cut);
  size_t p = 0;
  while (p < pending_.size()) {
    out->emplace_back();
    p = decode_one(pending_, p, &out->back());
  }
  pending_.assign(reinterpret_cast<const char*>(data) + cut, len - cut);
  return true;
}

size_t codepoints(std::string_view text) {
  size_t n = 0;
  for (char c : text) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

std::string sanitize_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  size_t n = text.size();
  for (size_t i = 0; i < n;) {
    unsigned char c = s[i];
    size_t need = c < 0x80 ? 0 : (c >= 0xC2 && c <= 0xDF) ? 1 : (c >= 0xE0 && c <= 0xEF) ? 2
                : (c >= 0xF0 && c <= 0xF4) ? 3 : 99;
    bool ok = need != 99 && i + need < n;
    for (size_t k = 1; ok && k <= need; k++) ok = (s[i + k] & 0xC0) == 0x80;
    if (ok && need == 2) ok = !((c == 0xE0 && s[i + 1] < 0xA0) || (c == 0xED && s[i + 1] > 0x9F));
    if (ok && need == 3) ok = !((c == 0xF0 && s[i + 1] < 0x90) || (c == 0xF4 && s[i + 1] > 0x8F));
    if (ok && c != 0) {
      out.append(text.substr(i, need + 1));
      i += need + 1;
    } else {
      out.push_back('?');
      i++;
    }
  }
  return out;
}

void encode_instruction(std::string* out, std::initializer_list<std::string_view> elements) {
  bool first = true;
  for (std::string_view e : elements) {
    if (!first) out->push_back(',');
    first = false;
    out->append(std::to_string(codepoints(e)));
    out->push_back('.');
    out->append(e);
  }
  out->push_back(';');
}

std::string encode_instruction(std::initializer_list<std::string_view> elements) {
  std::string out;
  encode_instruction(&out, elements);
  return out;
}

void base64_append(std::string* out, const uint8_t* data, size_t len) {
  static const char* tbl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t start = out->size();
  out->resize(start + (len + 2) / 3 * 4);
  char* o = &(*out)[start];
  size_t i = 0;
  for (; i + 3 <= len; i += 3) {
    uint32_t v = (uint32_t{data[i]} << 16) | (uint32_t{data[i + 1]} << 8) | data[i + 2];
    *o++ = tbl[v >> 18];
    *o++ = tbl[(v >> 12) & 63];
    *o++ = tbl[(v >> 6) & 63];
    *o++ = tbl[v & 63];
  }
  if (i < len) {
    uint32_t v = uint32_t{data[i]} << 16;
    if (i + 1 < len) v |= uint32_t{data[i + 1]} << 8;
    *o++ = tbl[v >> 18];
    *o++ = tbl[(v >> 12) & 63];
    *o++ = i + 1 < len ? tbl[(v >> 6) & 63] : '=';
    *o++ = '=';
  }
}

void GuacWriter::send(std::initializer_list<std::string_view> elements) {
  if (failed_) return;
  encode_instruction(&buf_, elements);
}

void GuacWriter::append_raw(std::string_view encoded) {
  if (failed_) return;
  buf_.append(encoded);
}

static constexpr size_t kBlobRawBytes = 6048;

void GuacWriter::send_blobs(int stream, const uint8_t* data, size_t len) {
  if (failed_) return;
  std::string index = std::to_string(stream);
  for (size_t off = 0; off < len; off += kBlobRawBytes) {
    size_t n = len - off < kBlobRawBytes ? len - off : kBlobRawBytes;
    buf_.append("4.blob,");
    buf_.append(std::to_string(index.size()));
    buf_.push_back('.');
    buf_.append(index);
    buf_.push_back(',');
    buf_.append(std::to_string((n + 2) / 3 * 4));
    buf_.push_back('.');
    base64_append(&buf_, data + off, n);
    buf_.push_back(';');
  }
}

void GuacWriter::send_image(int stream, int mask, int layer, std::string_view mimetype, int x, int y,
                            const std::vector<uint8_t>& data) {
  if (failed_) return;
  std::string s = std::to_string(stream);
  send({"img", s, std::to_string(mask), std::to_string(layer), mimetype, std::to_string(x),
        std::to_string(y)});
  send_blobs(stream, data.data(), data.size());
  send({"end", s});
}

bool GuacWriter::flush() {
  if (failed_) return false;
  size_t off = 0;
  while (off < buf_.size()) {
    ssize_t n = ::write(fd_, buf_.data() + off, buf_.size() - off);
    if (n < 0) {
      if (errno == EINTR && !(interrupt_ && *interrupt_)) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        struct pollfd p = {fd_, POLLOUT, 0};
        ::poll(&p, 1, 1000);
        continue;
      }
      failed_ = true;
      buf_.clear();
      return false;
    }
    off += static_cast<size_t>(n);
    written_ += static_cast<uint64_t>(n);
  }
  buf_.clear();
  return true;
}

void GuacWriter::release_spare() {
  if (buf_.empty() && buf_.capacity() > kKeepCapacity) std::string().swap(buf_);
}

}  // namespace gatehouse::rdp
