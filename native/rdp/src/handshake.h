// The server side of guacd's handshake, sans I/O (reference section 2):
//   client select,rdp           -> server args,VERSION_1_5_0,<parameter names>
//   client size/audio/video/image/timezone/name (any order; unknown opcodes ignored)
//   client connect,<version>,<values in args order>
// The caller validates the values, connects, and only then sends ready (or error).
#ifndef GATEHOUSE_RDP_HANDSHAKE_H_
#define GATEHOUSE_RDP_HANDSHAKE_H_

#include <map>
#include <string>
#include <vector>

#include "guac_io.h"

namespace gatehouse::rdp {

inline constexpr const char* kServerVersion = "VERSION_1_5_0";
inline constexpr int kHandshakeStepTimeoutMs = 15000;
inline constexpr int kMaxHandshakeInstructions = 64;
inline constexpr size_t kMaxMimetypes = 64;

struct ClientInfo {
  int width = 1024;
  int height = 768;
  int dpi = 96;
  std::vector<std::string> audio;
  std::vector<std::string> video;
  std::vector<std::string> image;
  std::string timezone;  // only with VERSION_1_1_0+
  std::string name;      // only with VERSION_1_5_0+
  std::string version;   // the negotiated version (VERSION_1_0_0 for unknown answers)
  bool accepts_image(const std::string& mimetype) const;
};

// Resolves the client's version answer as guacd does: a known version, else the newest known version
// not above a VERSION_x_y_z answer, else VERSION_1_0_0.
std::string resolve_client_version(const std::string& answer);

struct HandshakeStep {
  enum class Outcome { kContinue, kConnect, kFail };
  Outcome outcome = Outcome::kContinue;
  std::string send;  // encoded instructions to send now
  int status = 0;    // kFail: Guacamole status
  std::string message;
};

class Handshake {
 public:
  explicit Handshake(std::vector<std::string> arg_names) : names_(std::move(arg_names)) {}
  HandshakeStep receive(const Instruction& ins);
  // The handshake failed for a reason outside the instructions (timeout, malformed bytes).
  HandshakeStep fail(int status, const std::string& message);
  bool waiting_for_select() const { return phase_ == Phase::kSelect; }
  // Available after kConnect: every declared parameter by name ("" when unset).
  const std::map<std::string, std::string>& values() const { return values_; }
  const ClientInfo& client() const { return client_; }

 private:
  enum class Phase { kSelect, kInfo, kDone };
  HandshakeStep select(const Instruction& ins);
  HandshakeStep info(const Instruction& ins);
  HandshakeStep size(const std::vector<std::string>& args);
  HandshakeStep connect(const std::vector<std::string>& args);

  std::vector<std::string> names_;
  Phase phase_ = Phase::kSelect;
  int count_ = 0;
  ClientInfo client_;
  std::string timezone_;
  std::string name_;
  std::map<std::string, std::string> values_;
};

// Quotes client text for an error message (JSON-style, cut to 64 characters).
std::string quote_for_message(const std::string& text);

}  // namespace gatehouse::rdp

#endif  // GATEHOUSE_RDP_HANDSHAKE_H_
