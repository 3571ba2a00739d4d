#include "rdp_settings.h"

#include <freerdp/constants.h>
#include <freerdp/settings.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "keymap.h"

namespace gatehouse::rdp {

namespace {

bool set_string(rdpSettings* s, size_t id, const std::string& v) {
  return freerdp_settings_set_string(s, id, v.empty() ? nullptr : v.c_str()) == TRUE;
}

}  // namespace

bool apply_settings(const RdpConfig& c, const std::string& config_dir, rdpSettings* s,
                    std::string* error) {
  auto fail = [&](const char* what) {
    *error = std::string("cannot apply setting ") + what;
    return false;
  };
  if (!set_string(s, FreeRDP_ServerHostname, c.hostname)) return fail("hostname");
  freerdp_settings_set_uint32(s, FreeRDP_ServerPort, c.port);
  if (!c.username.empty() && !set_string(s, FreeRDP_Username, c.username)) return fail("username");
  if (!c.password.empty() && !set_string(s, FreeRDP_Password, c.password)) return fail("password");
  if (!c.domain.empty() && !set_string(s, FreeRDP_Domain, c.domain)) return fail("domain");
  if (!set_string(s, FreeRDP_ClientHostname, c.client_name)) return fail("client-name");
  if (!set_string(s, FreeRDP_ConfigPath, config_dir)) return fail("config path");
  if (!c.initial_program.empty() && !set_string(s, FreeRDP_AlternateShell, c.initial_program)) {
    return fail("initial-program");
  }
  if (!c.load_balance_info.empty()) {
    // A BYTE* + length pair in FreeRDP 2 (freed by freerdp_settings_free).
    auto* copy = static_cast<BYTE*>(malloc(c.load_balance_info.size() + 1));
    if (!copy) return fail("load-balance-info");
    memcpy(copy, c.load_balance_info.c_str(), c.load_balance_info.size() + 1);
    free(s->LoadBalanceInfo);
    s->LoadBalanceInfo = copy;
    s->LoadBalanceInfoLength = static_cast<UINT32>(c.load_balance_info.size());
  }
  if (c.has_preconnection_id || !c.preconnection_blob.empty()) {
    freerdp_settings_set_bool(s, FreeRDP_SendPreconnectionPdu, TRUE);
    if (c.has_preconnection_id) freerdp_settings_set_uint32(s, FreeRDP_PreconnectionId, c.preconnection_id);
    if (!c.preconnection_blob.empty() && !set_string(s, FreeRDP_PreconnectionBlob, c.preconnection_blob)) {
      return fail("preconnection-blob");
    }
  }
  freerdp_settings_set_uint32(s, FreeRDP_DesktopWidth, static_cast<UINT32>(c.width));
  freerdp_settings_set_uint32(s, FreeRDP_DesktopHeight, static_cast<UINT32>(c.height));
  if (c.dpi != 96) {
    UINT32 scale = static_cast<UINT32>(c.dpi * 100 / 96);
    if (scale < 100) scale = 100;
    if (scale > 500) scale = 500;
    freerdp_settings_set_uint32(s, FreeRDP_DesktopScaleFactor, scale);
    freerdp_settings_set_uint32(s, FreeRDP_DeviceScaleFactor, scale >= 180 ? 180 : scale >= 140 ? 140 : 100);
  }
  freerdp_settings_set_uint32(s, FreeRDP_ColorDepth, static_cast<UINT32>(c.color_depth));
  freerdp_settings_set_bool(s, FreeRDP_SoftwareGdi, TRUE);
  freerdp_settings_set_bool(s, FreeRDP_ConsoleSession, c.console ? TRUE : FALSE);
  if (const Keymap* km = find_keymap(c.server_layout)) {
    freerdp_settings_set_uint32(s, FreeRDP_KeyboardLayout, km->layout_id);
  }

  // Security layer.
  // One mode: only that protocol is requested in the (still negotiated) X.224 request.
  BOOL nla = TRUE, tls = TRUE, rdp = TRUE, negotiate = TRUE;
  switch (c.security) {
    case Security::kAny:
      nla = c.password.empty() ? FALSE : TRUE;  // NLA needs credentials up front
      break;
    case Security::kNla: tls = rdp = FALSE; break;
    case Security::kTls: nla = rdp = FALSE; break;
    case Security::kRdp:
      nla = tls = FALSE;
      freerdp_settings_set_bool(s, FreeRDP_UseRdpSecurityLayer, TRUE);
      break;
  }
  freerdp_settings_set_bool(s, FreeRDP_NlaSecurity, nla);
  freerdp_settings_set_bool(s, FreeRDP_TlsSecurity, tls);
  freerdp_settings_set_bool(s, FreeRDP_RdpSecurity, rdp);
  freerdp_settings_set_bool(s, FreeRDP_ExtSecurity, FALSE);
  freerdp_settings_set_bool(s, FreeRDP_NegotiateSecurityLayer, negotiate);
  freerdp_settings_set_bool(s, FreeRDP_IgnoreCertificate, c.ignore_cert ? TRUE : FALSE);
  freerdp_settings_set_bool(s, FreeRDP_AutoAcceptCertificate, FALSE);
  freerdp_settings_set_bool(s, FreeRDP_AutoDenyCertificate, FALSE);
  // Pins: we check the certificate ourselves (VerifyX509Certificate) against them only.
  freerdp_settings_set_bool(s, FreeRDP_ExternalCertificateManagement,
                            c.cert_fingerprints.empty() ? FALSE : TRUE);
  freerdp_settings_set_uint32(s, FreeRDP_TcpConnectTimeout, static_cast<UINT32>(c.timeout_s) * 1000);
  // FreeRDP's activation loops count 100 ms per iteration whether they slept that long or not (see
  // fast_sleep.h); allow more iterations. The connect deadline is enforced by ConnectWatch anyway.
  // (Also TCP_USER_TIMEOUT, in ms.)
  freerdp_settings_set_uint32(s, FreeRDP_TcpAckTimeout, static_cast<UINT32>(std::max(30, c.timeout_s * 5)) * 1000);

  // Performance flags.
  freerdp_settings_set_bool(s, FreeRDP_DisableWallpaper, c.enable_wallpaper ? FALSE : TRUE);
  freerdp_settings_set_bool(s, FreeRDP_DisableThemes, c.enable_theming ? FALSE : TRUE);
  freerdp_settings_set_bool(s, FreeRDP_AllowFontSmoothing, c.enable_font_smoothing ? TRUE : FALSE);
  freerdp_settings_set_bool(s, FreeRDP_DisableFullWindowDrag, c.enable_full_window_drag ? FALSE : TRUE);
  freerdp_settings_set_bool(s, FreeRDP_AllowDesktopComposition, c.enable_desktop_composition ? TRUE : FALSE);
  freerdp_settings_set_bool(s, FreeRDP_DisableMenuAnims, c.enable_menu_animations ? FALSE : TRUE);
  freerdp_settings_set_bool(s, FreeRDP_BitmapCacheEnabled, c.disable_bitmap_caching ? FALSE : TRUE);
  freerdp_settings_set_uint32(s, FreeRDP_OffscreenSupportLevel, c.disable_offscreen_caching ? 0 : 1);
  freerdp_settings_set_uint32(s, FreeRDP_GlyphSupportLevel, c.disable_glyph_caching ? GLYPH_SUPPORT_NONE : GLYPH_SUPPORT_FULL);
  freerdp_settings_set_uint32(s, FreeRDP_PerformanceFlags, 0);  // recomputed from the flags above

  // Graphics pipeline with FreeRDP's own decoders (Debian's FreeRDP 2 decodes H.264 through libavcodec).
  BOOL gfx = c.disable_gfx ? FALSE : TRUE;
  freerdp_settings_set_bool(s, FreeRDP_SupportGraphicsPipeline, gfx);
  freerdp_settings_set_bool(s, FreeRDP_GfxThinClient, FALSE);
  freerdp_settings_set_bool(s, FreeRDP_GfxSmallCache, FALSE);
  freerdp_settings_set_bool(s, FreeRDP_GfxProgressive, gfx);
  // H.264 (AVC420, AVC444 v1/v2) only when asked: FreeRDP decodes it with libavcodec, which costs ~26 MB
  // more per 1080p session and the decode CPU, and the browser still gets PNG/JPEG/WebP from us.
  BOOL h264 = gfx && c.enable_h264 ? TRUE : FALSE;
  freerdp_settings_set_bool(s, FreeRDP_GfxH264, h264);
  freerdp_settings_set_bool(s, FreeRDP_GfxAVC444, h264);
  freerdp_settings_set_bool(s, FreeRDP_GfxAVC444v2, h264);
  // Not advertising RemoteFX (the legacy codec capability) makes servers that choose their GFX codec
  // from it (FreeRDP's shadow server) send lossless planar instead of lossy RemoteFX tiles, which we
  // would re-encode as large images: measured 4 ms and 2 KiB per frame instead of 18 ms and 33 KiB.
  // Windows picks GFX codecs from the GFX capabilities (progressive RemoteFX stays decodable).
  freerdp_settings_set_bool(s, FreeRDP_RemoteFxCodec, FALSE);
  freerdp_settings_set_bool(s, FreeRDP_FastPathOutput, TRUE);
  freerdp_settings_set_bool(s, FreeRDP_FrameMarkerCommandEnabled, TRUE);
  freerdp_settings_set_bool(s, FreeRDP_SurfaceFrameMarkerEnabled, TRUE);
  freerdp_settings_set_bool(s, FreeRDP_SupportDisplayControl,
                            c.resize_method == ResizeMethod::kDisplayUpdate ? TRUE : FALSE);
  freerdp_settings_set_bool(s, FreeRDP_DesktopResize, TRUE);
  freerdp_settings_set_bool(s, FreeRDP_DynamicResolutionUpdate,
                            c.resize_method == ResizeMethod::kDisplayUpdate ? TRUE : FALSE);
  // Audio and devices: off unless a channel module turns them on in pre_connect.
  freerdp_settings_set_bool(s, FreeRDP_AudioPlayback, FALSE);
  freerdp_settings_set_bool(s, FreeRDP_AudioCapture, FALSE);
  freerdp_settings_set_bool(s, FreeRDP_RemoteConsoleAudio, FALSE);
  freerdp_settings_set_bool(s, FreeRDP_DeviceRedirection, FALSE);
  freerdp_settings_set_bool(s, FreeRDP_RedirectClipboard, FALSE);
  // These would make FreeRDP load rdpdr (+ a fake rdpsnd) for every session; modules that need
  // device redirection turn DeviceRedirection on themselves.
  freerdp_settings_set_bool(s, FreeRDP_SupportHeartbeatPdu, FALSE);
  freerdp_settings_set_bool(s, FreeRDP_SupportMultitransport, FALSE);
  freerdp_settings_set_bool(s, FreeRDP_NetworkAutoDetect, FALSE);
  freerdp_settings_set_bool(s, FreeRDP_AutoReconnectionEnabled, FALSE);
  freerdp_settings_set_bool(s, FreeRDP_AsyncUpdate, FALSE);
  freerdp_settings_set_bool(s, FreeRDP_AsyncChannels, FALSE);
  freerdp_settings_set_uint32(s, FreeRDP_OsMajorType, OSMAJORTYPE_UNIX);
  freerdp_settings_set_uint32(s, FreeRDP_OsMinorType, OSMINORTYPE_PSEUDO_XSERVER);
  return true;
}

}  // namespace gatehouse::rdp
