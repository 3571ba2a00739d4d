#include "params.h"

#include <algorithm>

#include "channel_hooks.h"
#include "keymap.h"

namespace gatehouse::rdp {

namespace {

const std::vector<std::string> kCoreNames = {
    "hostname", "port", "timeout", "domain", "username", "password", "width", "height", "dpi",
    "initial-program", "color-depth", "disable-audio", "console", "server-layout", "security",
    "ignore-cert", "cert-fingerprints", "client-name", "enable-wallpaper", "enable-theming",
    "enable-font-smoothing", "enable-full-window-drag", "enable-desktop-composition",
    "enable-menu-animations", "disable-bitmap-caching", "disable-offscreen-caching",
    "disable-glyph-caching", "disable-gfx", "preconnection-id", "preconnection-blob",
    "resize-method", "read-only", "load-balance-info", "disable-copy", "disable-paste",
    "force-lossless", "enable-h264",
};

constexpr size_t kMaxTextParam = 4096;

std::string get(const std::map<std::string, std::string>& v, const std::string& k) {
  auto it = v.find(k);
  return it == v.end() ? std::string() : it->second;
}

bool parse_uint(const std::string& s, uint64_t max, uint64_t* out) {
  if (s.empty() || s.size() > 12) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v > max) return false;
  *out = v;
  return true;
}

int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// "sha256:AB:CD:..." or plain hex, colons optional; several separated by commas (or whitespace).
bool parse_fingerprints(const std::string& s, std::vector<std::array<uint8_t, 32>>* out) {
  std::string item;
  auto finish = [&](std::string text) -> bool {
    if (text.empty()) return true;
    std::string lower;
    for (char c : text) lower.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c));
    if (lower.rfind("sha256:", 0) == 0) text = text.substr(7);
    std::string hex;
    for (char c : text) {
      if (c == ':') continue;
      if (hexval(c) < 0) return false;
      hex.push_back(c);
    }
    if (hex.size() != 64) return false;
    std::array<uint8_t, 32> fp{};
    for (size_t i = 0; i < 32; i++) {
      fp[i] = static_cast<uint8_t>(hexval(hex[2 * i]) * 16 + hexval(hex[2 * i + 1]));
    }
    out->push_back(fp);
    return out->size() <= 32;
  };
  for (char c : s) {
    if (c == ',' || c == ' ' || c == '\t' || c == '\n' || c == ';') {
      if (!finish(item)) return false;
      item.clear();
    } else {
      item.push_back(c);
    }
  }
  return finish(item);
}

}  // namespace

const std::vector<std::string>& core_param_names() { return kCoreNames; }

std::vector<std::string> all_param_names() {
  std::vector<std::string> names = kCoreNames;
  for (const auto& n : channel_module_param_names()) {
    if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
  }
  return names;
}

bool parse_config(const std::map<std::string, std::string>& values, const ClientInfo& client,
                  RdpConfig* c, std::string* error) {
  c->raw = values;
  auto bad = [&](const std::string& name, const std::string& why) {
    *error = "Invalid parameter \"" + name + "\": " + why;
    return false;
  };
  for (const auto& [k, v] : values) {
    if (v.size() > kMaxTextParam) return bad(k, "longer than 4096 bytes");
  }
  auto boolean = [&](const std::string& name, bool* out) {
    std::string v = get(values, name);
    if (v.empty() || v == "false") *out = false;
    else if (v == "true") *out = true;
    else return bad(name, "expected \"true\" or \"false\", got " + quote_for_message(v));
    return true;
  };

  c->hostname = get(values, "hostname");
  if (c->hostname.empty()) return bad("hostname", "required");
  if (c->hostname.size() > 253 ||
      c->hostname.find_first_of(" \t\r\n/\\") != std::string::npos) {
    return bad("hostname", "not a host name or address");
  }
  uint64_t n;
  std::string v = get(values, "port");
  if (!v.empty()) {
    if (!parse_uint(v, 65535, &n) || n == 0) return bad("port", "expected 1..65535, got " + quote_for_message(v));
    c->port = static_cast<uint16_t>(n);
  }
  v = get(values, "timeout");
  if (!v.empty()) {
    if (!parse_uint(v, 3600, &n) || n == 0) return bad("timeout", "expected seconds 1..3600, got " + quote_for_message(v));
    c->timeout_s = static_cast<int>(n);
  }
  c->domain = get(values, "domain");
  c->username = get(values, "username");
  c->password = get(values, "password");

  c->width = client.width > 0 ? client.width : 1024;
  c->height = client.height > 0 ? client.height : 768;
  c->dpi = client.dpi > 0 ? client.dpi : 96;
  v = get(values, "width");
  if (!v.empty()) {
    if (!parse_uint(v, kMaxDesktopSize, &n) || n < 1) return bad("width", "expected 1..8192, got " + quote_for_message(v));
    c->width = static_cast<int>(n);
  }
  v = get(values, "height");
  if (!v.empty()) {
    if (!parse_uint(v, kMaxDesktopSize, &n) || n < 1) return bad("height", "expected 1..8192, got " + quote_for_message(v));
    c->height = static_cast<int>(n);
  }
  v = get(values, "dpi");
  if (!v.empty()) {
    if (!parse_uint(v, 1000, &n) || n < 48) return bad("dpi", "expected 48..1000, got " + quote_for_message(v));
    c->dpi = static_cast<int>(n);
  }
  c->width = std::clamp(c->width, kMinDesktopSize, kMaxDesktopSize);
  c->height = std::clamp(c->height, kMinDesktopSize, kMaxDesktopSize);
  c->dpi = std::clamp(c->dpi, 48, 1000);

  c->initial_program = get(values, "initial-program");
  v = get(values, "color-depth");
  if (!v.empty()) {
    if (v != "8" && v != "16" && v != "24" && v != "32") return bad("color-depth", "expected 8, 16, 24 or 32, got " + quote_for_message(v));
    c->color_depth = std::stoi(v);
  }
  v = get(values, "server-layout");
  if (!v.empty()) {
    if (!find_keymap(v)) return bad("server-layout", "unknown layout " + quote_for_message(v) + " (known: " + known_keymaps() + ")");
    c->server_layout = v;
  }
  v = get(values, "security");
  if (v.empty() || v == "any") c->security = Security::kAny;
  else if (v == "nla") c->security = Security::kNla;
  else if (v == "tls") c->security = Security::kTls;
  else if (v == "rdp") c->security = Security::kRdp;
  else return bad("security", "expected any, nla, tls or rdp, got " + quote_for_message(v));

  v = get(values, "cert-fingerprints");
  if (!parse_fingerprints(v, &c->cert_fingerprints)) {
    return bad("cert-fingerprints", "expected SHA-256 fingerprints (64 hex digits, optionally "
                                    "\"sha256:\" and colons), comma-separated");
  }
  v = get(values, "client-name");
  if (!v.empty()) {
    // RDP carries at most 15 characters; keep printable ASCII only.
    std::string name;
    for (char ch : v) {
      if (ch >= 0x20 && ch < 0x7f && name.size() < 15) name.push_back(ch);
    }
    if (name.empty()) return bad("client-name", "no printable ASCII characters");
    c->client_name = name;
  }
  v = get(values, "preconnection-id");
  if (!v.empty()) {
    if (!parse_uint(v, 0xFFFFFFFFull, &n)) return bad("preconnection-id", "expected 0..4294967295, got " + quote_for_message(v));
    c->has_preconnection_id = true;
    c->preconnection_id = static_cast<uint32_t>(n);
  }
  c->preconnection_blob = get(values, "preconnection-blob");
  v = get(values, "resize-method");
  if (v.empty() || v == "none") c->resize_method = ResizeMethod::kNone;
  else if (v == "display-update") c->resize_method = ResizeMethod::kDisplayUpdate;
  else if (v == "reconnect") c->resize_method = ResizeMethod::kReconnect;
  else return bad("resize-method", "expected display-update, reconnect or none, got " + quote_for_message(v));
  c->load_balance_info = get(values, "load-balance-info");
  if (c->load_balance_info.find_first_of("\r\n") != std::string::npos) {
    return bad("load-balance-info", "must not contain line breaks");
  }

  if (!boolean("disable-audio", &c->disable_audio) || !boolean("console", &c->console) ||
      !boolean("ignore-cert", &c->ignore_cert) ||
      !boolean("enable-wallpaper", &c->enable_wallpaper) ||
      !boolean("enable-theming", &c->enable_theming) ||
      !boolean("enable-font-smoothing", &c->enable_font_smoothing) ||
      !boolean("enable-full-window-drag", &c->enable_full_window_drag) ||
      !boolean("enable-desktop-composition", &c->enable_desktop_composition) ||
      !boolean("enable-menu-animations", &c->enable_menu_animations) ||
      !boolean("disable-bitmap-caching", &c->disable_bitmap_caching) ||
      !boolean("disable-offscreen-caching", &c->disable_offscreen_caching) ||
      !boolean("disable-glyph-caching", &c->disable_glyph_caching) ||
      !boolean("disable-gfx", &c->disable_gfx) || !boolean("read-only", &c->read_only) ||
      !boolean("disable-copy", &c->disable_copy) ||
      !boolean("disable-paste", &c->disable_paste) ||
      !boolean("force-lossless", &c->force_lossless) ||
      !boolean("enable-h264", &c->enable_h264)) {
    return false;
  }
  std::string module_error = validate_channel_module_params(values);
  if (!module_error.empty()) {
    *error = module_error;
    return false;
  }
  return true;
}

}  // namespace gatehouse::rdp
