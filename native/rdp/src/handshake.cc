#include "handshake.h"

#include <cstdlib>

#include "log.h"
#include "status.h"

namespace gatehouse::rdp {

namespace {

const char* const kKnownVersions[] = {"VERSION_1_0_0", "VERSION_1_1_0", "VERSION_1_3_0",
                                      "VERSION_1_5_0"};

// VERSION_x_y_z -> {x, y, z}; false for anything else.
bool parse_version(const std::string& s, long v[3]) {
  const std::string prefix = "VERSION_";
  if (s.compare(0, prefix.size(), prefix) != 0) return false;
  size_t p = prefix.size();
  for (int i = 0; i < 3; i++) {
    size_t start = p;
    long n = 0;
    while (p < s.size() && s[p] >= '0' && s[p] <= '9' && p - start < 6) n = n * 10 + (s[p++] - '0');
    if (p == start) return false;
    v[i] = n;
    if (i < 2) {
      if (p >= s.size() || s[p] != '_') return false;
      p++;
    }
  }
  return p == s.size();
}

int compare_versions(const long a[3], const long b[3]) {
  for (int i = 0; i < 3; i++) {
    if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
  }
  return 0;
}

// A `size` value: decimal digits (an optional fraction dropped, as atoi does), 0..65535.
bool parse_dimension(const std::string& text, int* out) {
  size_t p = 0;
  if (p < text.size() && text[p] == '+') p++;
  size_t start = p;
  long v = 0;
  while (p < text.size() && text[p] >= '0' && text[p] <= '9') {
    v = v * 10 + (text[p++] - '0');
    if (v > 65535) return false;
  }
  if (p == start) return false;
  if (p < text.size() && text[p] == '.') {
    p++;
    while (p < text.size() && text[p] >= '0' && text[p] <= '9') p++;
  }
  if (p != text.size()) return false;
  *out = static_cast<int>(v);
  return true;
}

}  // namespace

std::string quote_for_message(const std::string& text) {
  std::string cut = text;
  bool more = false;
  if (codepoints(cut) > 64) {
    size_t n = 0, i = 0;
    for (; i < cut.size(); i++) {
      if ((static_cast<unsigned char>(cut[i]) & 0xC0) != 0x80 && n++ == 64) break;
    }
    cut.resize(i);
    more = true;
  }
  std::string out = "\"";
  json_escape(sanitize_utf8(cut), &out);
  if (more) out += "...";
  out += "\"";
  return out;
}

bool ClientInfo::accepts_image(const std::string& mimetype) const {
  for (const auto& m : image) {
    if (m == mimetype) return true;
  }
  return false;
}

std::string resolve_client_version(const std::string& answer) {
  long v[3];
  if (!parse_version(answer, v)) return kKnownVersions[0];
  std::string best = kKnownVersions[0];
  for (const char* known : kKnownVersions) {
    long k[3];
    parse_version(known, k);
    if (compare_versions(k, v) <= 0) best = known;
  }
  return best;
}

HandshakeStep Handshake::fail(int st, const std::string& message) {
  phase_ = Phase::kDone;
  HandshakeStep step;
  step.outcome = HandshakeStep::Outcome::kFail;
  step.status = st;
  step.message = message;
  step.send = encode_instruction({"error", sanitize_utf8(message), std::to_string(st)});
  return step;
}

HandshakeStep Handshake::receive(const Instruction& ins) {
  if (phase_ == Phase::kDone) return {};
  if (++count_ > kMaxHandshakeInstructions) {
    return fail(status::kClientBadRequest, "Handshake not completed within " +
                                               std::to_string(kMaxHandshakeInstructions) +
                                               " instructions");
  }
  return phase_ == Phase::kSelect ? select(ins) : info(ins);
}

HandshakeStep Handshake::select(const Instruction& ins) {
  if (ins.opcode != "select") {
    return fail(status::kClientBadRequest,
                "Expected \"select\" but received " + quote_for_message(ins.opcode));
  }
  if (ins.args.size() != 1) {
    return fail(status::kClientBadRequest, "\"select\" takes one argument (a protocol), got " +
                                               std::to_string(ins.args.size()));
  }
  const std::string& what = ins.args[0];
  if (!what.empty() && what[0] == '$') {
    return fail(status::kResourceNotFound, "Connection " + quote_for_message(what) +
                                               " cannot be joined: this engine runs one session");
  }
  if (what != "rdp") {
    return fail(status::kClientBadRequest,
                "No such protocol " + quote_for_message(what) + " (this engine provides rdp)");
  }
  phase_ = Phase::kInfo;
  HandshakeStep step;
  step.send = "4.args,";
  step.send += std::to_string(codepoints(kServerVersion)) + "." + kServerVersion;
  for (const auto& n : names_) step.send += "," + std::to_string(codepoints(n)) + "." + n;
  step.send += ";";
  return step;
}

HandshakeStep Handshake::info(const Instruction& ins) {
  const std::string& op = ins.opcode;
  if (op == "size") return size(ins.args);
  if (op == "audio" || op == "video" || op == "image") {
    if (ins.args.size() > kMaxMimetypes) {
      return fail(status::kClientBadRequest, "\"" + op + "\" lists " +
                                                 std::to_string(ins.args.size()) +
                                                 " mimetypes; at most 64 are accepted");
    }
    std::vector<std::string> list;
    for (const auto& m : ins.args) {
      if (!m.empty()) list.push_back(m);
    }
    (op == "audio" ? client_.audio : op == "video" ? client_.video : client_.image) = list;
    return {};
  }
  if (op == "timezone") {
    timezone_ = ins.args.empty() ? "" : ins.args[0];
    return {};
  }
  if (op == "name") {
    name_ = ins.args.empty() ? "" : ins.args[0];
    return {};
  }
  if (op == "connect") return connect(ins.args);
  return {};  // guacd ignores other opcodes during the handshake
}

HandshakeStep Handshake::size(const std::vector<std::string>& args) {
  if (args.size() < 2) {
    return fail(status::kClientBadRequest, "\"size\" needs a width and a height, got " +
                                               std::to_string(args.size()) + " values");
  }
  int w, h, dpi = 96;
  if (!parse_dimension(args[0], &w)) {
    return fail(status::kClientBadRequest, "\"size\" has an invalid width " +
                                               quote_for_message(args[0]) +
                                               ": expected a number from 0 to 65535");
  }
  if (!parse_dimension(args[1], &h)) {
    return fail(status::kClientBadRequest, "\"size\" has an invalid height " +
                                               quote_for_message(args[1]) +
                                               ": expected a number from 0 to 65535");
  }
  if (args.size() >= 3 && (!parse_dimension(args[2], &dpi) || dpi == 0)) {
    return fail(status::kClientBadRequest, "\"size\" has an invalid dpi " +
                                               quote_for_message(args[2]) +
                                               ": expected a number from 1 to 65535");
  }
  client_.width = w;
  client_.height = h;
  client_.dpi = dpi;
  return {};
}

HandshakeStep Handshake::connect(const std::vector<std::string>& args) {
  if (args.size() != names_.size() + 1) {
    return fail(status::kClientBadRequest,
                "\"connect\" has " + std::to_string(args.size()) +
                    " values; protocol \"rdp\" expects " + std::to_string(names_.size() + 1) +
                    ": the protocol version followed by " + std::to_string(names_.size()) +
                    " parameters");
  }
  client_.version = resolve_client_version(args[0]);
  for (size_t i = 0; i < names_.size(); i++) values_[names_[i]] = args[i + 1];
  long v[3], tz[3] = {1, 1, 0}, nm[3] = {1, 5, 0};
  parse_version(client_.version, v);
  if (compare_versions(v, tz) >= 0) client_.timezone = timezone_;
  if (compare_versions(v, nm) >= 0) client_.name = name_;
  phase_ = Phase::kDone;
  HandshakeStep step;
  step.outcome = HandshakeStep::Outcome::kConnect;
  return step;
}

}  // namespace gatehouse::rdp
