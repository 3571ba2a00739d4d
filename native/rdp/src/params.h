// Connection parameters (guacd's RDP names, reference section 8) and their validation.
#ifndef GATEHOUSE_RDP_PARAMS_H_
#define GATEHOUSE_RDP_PARAMS_H_

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "handshake.h"

namespace gatehouse::rdp {

enum class Security { kAny, kNla, kTls, kRdp };
enum class ResizeMethod { kNone, kDisplayUpdate, kReconnect };

struct RdpConfig {
  std::string hostname;
  uint16_t port = 3389;
  int timeout_s = 10;
  std::string domain;
  std::string username;
  std::string password;
  int width = 1024;
  int height = 768;
  int dpi = 96;
  std::string initial_program;
  int color_depth = 32;
  bool disable_audio = false;
  bool console = false;
  std::string server_layout = "en-us-qwerty";
  Security security = Security::kAny;
  bool ignore_cert = false;
  std::vector<std::array<uint8_t, 32>> cert_fingerprints;  // SHA-256 pins
  std::string client_name = "Gatehouse";
  bool enable_wallpaper = false;
  bool enable_theming = false;
  bool enable_font_smoothing = false;
  bool enable_full_window_drag = false;
  bool enable_desktop_composition = false;
  bool enable_menu_animations = false;
  bool disable_bitmap_caching = false;
  bool disable_offscreen_caching = false;
  bool disable_glyph_caching = false;
  bool disable_gfx = false;
  /** Advertise AVC420/AVC444 in the GFX capabilities (FreeRDP decodes H.264 with libavcodec). */
  bool enable_h264 = false;
  bool has_preconnection_id = false;
  uint32_t preconnection_id = 0;
  std::string preconnection_blob;
  ResizeMethod resize_method = ResizeMethod::kNone;
  bool read_only = false;
  std::string load_balance_info;
  bool disable_copy = false;
  bool disable_paste = false;
  bool force_lossless = false;
  // Every parameter as received (channel modules read their own from here).
  std::map<std::string, std::string> raw;
};

// The core parameter names, in the fixed order they are listed in `args`.
const std::vector<std::string>& core_param_names();
// Core names followed by those of the registered channel modules.
std::vector<std::string> all_param_names();

// Builds the configuration from the `connect` values and the client's handshake info. On failure
// returns false with a message naming the parameter (sent as error 0x0300).
bool parse_config(const std::map<std::string, std::string>& values, const ClientInfo& client,
                  RdpConfig* out, std::string* error);

// Desktop size limits (the display-update channel's range; guacd's rule).
inline constexpr int kMinDesktopSize = 200;
inline constexpr int kMaxDesktopSize = 8192;

}  // namespace gatehouse::rdp

#endif  // GATEHOUSE_RDP_PARAMS_H_
