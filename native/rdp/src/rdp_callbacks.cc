// FreeRDP instance callbacks and update hooks: connection phases, authentication, certificates,
// paint/copy/frame/resize notifications into the Display, channels into the session.
#include <cstring>
#include <string>

#include <freerdp/channels/channels.h>
#include <freerdp/client/channels.h>
#include <freerdp/client/cmdline.h>
#include <freerdp/client/disp.h>
#include <freerdp/client/rdpgfx.h>
#include <freerdp/gdi/gdi.h>
#include <freerdp/gdi/gfx.h>
#include <winpr/custom-crypto.h>

#include "cursor.h"
#include "log.h"
#include "rdp_settings.h"
#include "session.h"

namespace gatehouse::rdp {

namespace {

// Original handlers we wrap (one session per process, one FreeRDP instance).
pScrBlt g_gdi_scrblt = nullptr;
pcRdpgfxSurfaceToSurface g_gfx_surface_to_surface = nullptr;
pcRdpgfxEndFrame g_gfx_end_frame = nullptr;
pcRdpgfxSurfaceCommand g_gfx_surface_command = nullptr;
uint32_t g_gfx_codecs_seen = 0;  // bit per RDPGFX_CODECID_* (all < 32)

// ---- painting ------------------------------------------------------------------------------------

BOOL begin_paint(rdpContext* context) {
  rdpGdi* gdi = context->gdi;
  if (gdi && gdi->primary && gdi->primary->hdc && gdi->primary->hdc->hwnd) {
    HGDI_WND hwnd = gdi->primary->hdc->hwnd;
    hwnd->invalid->null = TRUE;
    hwnd->ninvalid = 0;
  }
  return TRUE;
}

BOOL end_paint(rdpContext* context) {
  rdpGdi* gdi = context->gdi;
  Session* session = session_of(context);
  if (!gdi || !session || !gdi->primary || !gdi->primary->hdc || !gdi->primary->hdc->hwnd) return TRUE;
  HGDI_WND hwnd = gdi->primary->hdc->hwnd;
  if (hwnd->invalid->null) return TRUE;
  for (INT32 i = 0; i < hwnd->ninvalid; i++) {
    const GDI_RGN& r = hwnd->cinvalid[i];
    session->display().invalidate(r.x, r.y, r.w, r.h);
  }
  hwnd->invalid->null = TRUE;
  hwnd->ninvalid = 0;
  return TRUE;
}

BOOL scr_blt(rdpContext* context, const SCRBLT_ORDER* o) {
  BOOL rc = g_gdi_scrblt ? g_gdi_scrblt(context, o) : TRUE;
  Session* session = session_of(context);
  if (rc && session && o->bRop == 0xCC) {  // SRCCOPY
    session->display().copy_hint(o->nXSrc, o->nYSrc, o->nWidth, o->nHeight, o->nLeftRect, o->nTopRect);
  }
  return rc;
}

BOOL surface_frame_marker(rdpContext* context, const SURFACE_FRAME_MARKER* marker) {
  Session* session = session_of(context);
  if (session && marker->frameAction == SURFACECMD_FRAMEACTION_END) session->display().frame_marker();
  if (context->settings->FrameAcknowledge > 0 && marker->frameAction == SURFACECMD_FRAMEACTION_END) {
    IFCALL(context->update->SurfaceFrameAcknowledge, context, marker->frameId);
  }
  return TRUE;
}

BOOL frame_marker(rdpContext* context, const FRAME_MARKER_ORDER* marker) {
  Session* session = session_of(context);
  if (session && marker->action == 1) session->display().frame_marker();  // FRAME_END
  return TRUE;
}

BOOL desktop_resize(rdpContext* context) {
  rdpGdi* gdi = context->gdi;
  Session* session = session_of(context);
  if (!gdi || !session) return TRUE;
  EnterCriticalSection(&context->update->mux);
  BOOL ok = gdi_resize(gdi, context->settings->DesktopWidth, context->settings->DesktopHeight);
  int w = static_cast<int>(gdi->width), h = static_cast<int>(gdi->height);
  LeaveCriticalSection(&context->update->mux);
  log_info("desktop resized by the server", {kv("width", w), kv("height", h)});
  session->display().desktop_resized(w, h);
  return ok;
}

BOOL keyboard_indicators(rdpContext* context, UINT16 flags) {
  Session* session = session_of(context);
  if (session) session->keyboard().server_indicators(flags);
  return TRUE;
}

BOOL keyboard_ime_status(rdpContext*, UINT16, UINT32, UINT32) { return TRUE; }
BOOL play_sound(rdpContext*, const PLAY_SOUND_UPDATE*) { return TRUE; }

// ---- GFX -----------------------------------------------------------------------------------------

UINT gfx_surface_to_surface(RdpgfxClientContext* gfx, const RDPGFX_SURFACE_TO_SURFACE_PDU* pdu) {
  UINT rc = g_gfx_surface_to_surface ? g_gfx_surface_to_surface(gfx, pdu) : CHANNEL_RC_OK;
  auto* gdi = static_cast<rdpGdi*>(gfx->custom);
  Session* session = gdi ? session_of(gdi->context) : nullptr;
  if (rc != CHANNEL_RC_OK || !session || pdu->surfaceIdSrc != pdu->surfaceIdDest) return rc;
  auto* surface = static_cast<gdiGfxSurface*>(gfx->GetSurfaceData(gfx, pdu->surfaceIdSrc));
  // Only an unscaled surface mapped to the output maps 1:1 onto the framebuffer.
  if (!surface || !surface->outputMapped || surface->windowId != 0 ||
      surface->outputTargetWidth != surface->mappedWidth ||
      surface->outputTargetHeight != surface->mappedHeight) {
    return rc;
  }
  const RECTANGLE_16* src = &pdu->rectSrc;
  int w = src->right - src->left, h = src->bottom - src->top;
  int ox = static_cast<int>(surface->outputOriginX), oy = static_cast<int>(surface->outputOriginY);
  for (UINT16 i = 0; i < pdu->destPtsCount && i < 16; i++) {
    const RDPGFX_POINT16& d = pdu->destPts[i];
    session->display().copy_hint(ox + src->left, oy + src->top, w, h, ox + d.x, oy + d.y);
  }
  return rc;
}

const char* gfx_codec_name(uint32_t id) {
  switch (id) {
    case RDPGFX_CODECID_UNCOMPRESSED: return "uncompressed";
    case RDPGFX_CODECID_CAVIDEO: return "remotefx";
    case RDPGFX_CODECID_CLEARCODEC: return "clearcodec";
    case RDPGFX_CODECID_CAPROGRESSIVE: return "progressive";
    case RDPGFX_CODECID_PLANAR: return "planar";
    case RDPGFX_CODECID_AVC420: return "avc420";
    case RDPGFX_CODECID_ALPHA: return "alpha";
    case RDPGFX_CODECID_CAPROGRESSIVE_V2: return "progressive-v2";
    case RDPGFX_CODECID_AVC444: return "avc444";
    case RDPGFX_CODECID_AVC444v2: return "avc444v2";
    default: return "unknown";
  }
}

/** Logs each GFX codec the server uses, once (operators want to know whether H.264 is in play). */
UINT gfx_surface_command(RdpgfxClientContext* gfx, const RDPGFX_SURFACE_COMMAND* cmd) {
  if (cmd->codecId < 32 && !(g_gfx_codecs_seen & (1u << cmd->codecId))) {
    g_gfx_codecs_seen |= 1u << cmd->codecId;
    log_info("GFX codec in use", {kv("codec", gfx_codec_name(cmd->codecId)), kv("id", cmd->codecId)});
  }
  return g_gfx_surface_command ? g_gfx_surface_command(gfx, cmd) : CHANNEL_RC_OK;
}

UINT gfx_end_frame(RdpgfxClientContext* gfx, const RDPGFX_END_FRAME_PDU* pdu) {
  UINT rc = g_gfx_end_frame ? g_gfx_end_frame(gfx, pdu) : CHANNEL_RC_OK;
  auto* gdi = static_cast<rdpGdi*>(gfx->custom);
  Session* session = gdi ? session_of(gdi->context) : nullptr;
  if (session) session->display().frame_marker();
  return rc;
}

// ---- channels ------------------------------------------------------------------------------------

void on_channel_connected(void* ctx, ChannelConnectedEventArgs* e) {
  auto* context = static_cast<rdpContext*>(ctx);
  Session* session = session_of(context);
  if (!session) return;
  log_debug("channel connected", {kv("channel", e->name)});
  if (strcmp(e->name, RDPGFX_DVC_CHANNEL_NAME) == 0) {
    auto* gfx = static_cast<RdpgfxClientContext*>(e->pInterface);
    if (context->gdi && gdi_graphics_pipeline_init(context->gdi, gfx)) {
      g_gfx_surface_to_surface = gfx->SurfaceToSurface;
      gfx->SurfaceToSurface = gfx_surface_to_surface;
      g_gfx_end_frame = gfx->EndFrame;
      gfx->EndFrame = gfx_end_frame;
      g_gfx_surface_command = gfx->SurfaceCommand;
      gfx->SurfaceCommand = gfx_surface_command;
      log_info("graphics pipeline (GFX) active");
    }
  } else if (strcmp(e->name, DISP_DVC_CHANNEL_NAME) == 0) {
    session->resizer().attach(static_cast<DispClientContext*>(e->pInterface));
  }
  for (auto& m : session->modules()) m->channel_connected(*session, e);
}

void on_channel_disconnected(void* ctx, ChannelDisconnectedEventArgs* e) {
  auto* context = static_cast<rdpContext*>(ctx);
  Session* session = session_of(context);
  if (!session) return;
  if (strcmp(e->name, RDPGFX_DVC_CHANNEL_NAME) == 0) {
    if (context->gdi) gdi_graphics_pipeline_uninit(context->gdi, static_cast<RdpgfxClientContext*>(e->pInterface));
  } else if (strcmp(e->name, DISP_DVC_CHANNEL_NAME) == 0) {
    session->resizer().detach();
  }
  for (auto& m : session->modules()) m->channel_disconnected(*session, e);
}

// ---- connection phases ---------------------------------------------------------------------------

BOOL pre_connect(freerdp* instance) {
  rdpContext* context = instance->context;
  Session* session = session_of(context);
  if (!session) return FALSE;
  PubSub_SubscribeChannelConnected(context->pubSub, on_channel_connected);
  PubSub_SubscribeChannelDisconnected(context->pubSub, on_channel_disconnected);
  for (auto& m : session->modules()) {
    if (!m->pre_connect(*session, instance->settings)) {
      log_error("channel module refused to start", {kv("module", m->name())});
      return FALSE;
    }
  }
  return freerdp_client_load_addins(context->channels, instance->settings);
}

BOOL post_connect(freerdp* instance) {
  rdpContext* context = instance->context;
  Session* session = session_of(context);
  if (!session) return FALSE;
  if (!gdi_init(instance, PIXEL_FORMAT_BGRX32)) return FALSE;
  register_pointer(context);
  rdpUpdate* update = context->update;
  update->BeginPaint = begin_paint;
  update->EndPaint = end_paint;
  update->DesktopResize = desktop_resize;
  update->SurfaceFrameMarker = surface_frame_marker;
  update->SetKeyboardIndicators = keyboard_indicators;
  update->SetKeyboardImeStatus = keyboard_ime_status;
  update->PlaySound = play_sound;
  update->altsec->FrameMarker = frame_marker;
  g_gdi_scrblt = update->primary->ScrBlt;
  update->primary->ScrBlt = scr_blt;
  rdpGdi* gdi = context->gdi;
  session->display().desktop_resized(static_cast<int>(gdi->width), static_cast<int>(gdi->height));
  return TRUE;
}

void post_disconnect(freerdp* instance) {
  if (!instance || !instance->context) return;
  PubSub_UnsubscribeChannelConnected(instance->context->pubSub, on_channel_connected);
  PubSub_UnsubscribeChannelDisconnected(instance->context->pubSub, on_channel_disconnected);
  gdi_free(instance);
}

BOOL authenticate(freerdp* instance, char** username, char** password, char** domain) {
  (void)domain;
  // Credentials come only from the connection parameters: never prompt. Missing ones fail here.
  bool have = username && *username && **username && password && *password;
  if (!have) log_warn("the server asked for credentials that the connection does not have");
  (void)instance;
  return have ? TRUE : FALSE;
}

BOOL gateway_authenticate(freerdp*, char**, char**, char**) { return FALSE; }

DWORD verify_certificate(freerdp* instance, const char* host, UINT16 port, const char* common_name,
                         const char*, const char* issuer, const char* fingerprint, DWORD flags) {
  Session* session = session_of(instance->context);
  log_warn("server certificate not trusted (set ignore-cert or cert-fingerprints)",
           {kv("host", host ? host : ""), kv("port", static_cast<int>(port)),
            kv("commonName", common_name ? common_name : ""), kv("issuer", issuer ? issuer : ""),
            kv("fingerprint", fingerprint ? fingerprint : ""),
            kv("mismatch", (flags & VERIFY_CERT_FLAG_MISMATCH) != 0)});
  if (session) session->note_certificate_rejected("The RDP server's certificate is not trusted");
  return 0;
}

DWORD verify_changed_certificate(freerdp* instance, const char* host, UINT16 port,
                                 const char* common_name, const char* subject, const char* issuer,
                                 const char* fingerprint, const char*, const char*, const char*,
                                 DWORD flags) {
  return verify_certificate(instance, host, port, common_name, subject, issuer, fingerprint, flags);
}

// The first certificate of a PEM text, as DER.
bool pem_to_der(const BYTE* pem, size_t length, std::string* der) {
  std::string text(reinterpret_cast<const char*>(pem), length);
  const std::string begin = "-----BEGIN CERTIFICATE-----", end = "-----END CERTIFICATE-----";
  size_t b = text.find(begin);
  if (b == std::string::npos) return false;
  b += begin.size();
  size_t e = text.find(end, b);
  if (e == std::string::npos) return false;
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = b; i < e; i++) {
    char c = text[i];
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '+') v = 62;
    else if (c == '/') v = 63;
    else continue;  // '=', whitespace
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      der->push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return !der->empty();
}

int verify_x509(freerdp* instance, const BYTE* data, size_t length, const char* hostname, UINT16 port,
                DWORD) {
  Session* session = session_of(instance->context);
  if (!session) return 0;
  std::string der;
  BYTE digest[32];
  if (!pem_to_der(data, length, &der) ||
      !winpr_Digest(WINPR_MD_SHA256, reinterpret_cast<const BYTE*>(der.data()), der.size(), digest,
                    sizeof digest)) {
    session->note_certificate_rejected("The RDP server's certificate could not be read");
    return 0;
  }
  for (const auto& pin : session->config().cert_fingerprints) {
    if (memcmp(pin.data(), digest, 32) == 0) {
      log_info("server certificate matches a pinned fingerprint");
      return 2;  // accept for this session only
    }
  }
  std::string hex;
  for (BYTE b : digest) {
    char buf[4];
    snprintf(buf, sizeof buf, "%02x", b);
    if (!hex.empty()) hex += ":";
    hex += buf;
  }
  // FreeRDP asks here for every certificate it cannot verify, pins configured or not.
  bool pinned = !session->config().cert_fingerprints.empty();
  log_warn(pinned ? "server certificate does not match cert-fingerprints" : "server certificate is not trusted",
           {kv("host", hostname ? hostname : ""), kv("port", static_cast<int>(port)), kv("sha256", hex)});
  session->note_certificate_rejected(
      pinned ? "The RDP server's certificate does not match cert-fingerprints"
             : "The RDP server's certificate is not trusted (set ignore-cert or cert-fingerprints)");
  return 0;
}

int logon_error_info(freerdp*, UINT32 data, UINT32 type) {
  log_info("logon error info", {kv("data", freerdp_get_logon_error_info_data(data)),
                                kv("type", freerdp_get_logon_error_info_type(type))});
  return 1;
}

BOOL client_new(freerdp* instance, rdpContext* context) {
  reinterpret_cast<GhContext*>(context)->session = nullptr;
  instance->PreConnect = pre_connect;
  instance->PostConnect = post_connect;
  instance->PostDisconnect = post_disconnect;
  instance->Authenticate = authenticate;
  instance->GatewayAuthenticate = gateway_authenticate;
  instance->VerifyCertificateEx = verify_certificate;
  instance->VerifyChangedCertificateEx = verify_changed_certificate;
  instance->VerifyX509Certificate = verify_x509;
  instance->LogonErrorInfo = logon_error_info;
  return TRUE;
}

void client_free(freerdp*, rdpContext*) {}
int client_start(rdpContext*) { return 0; }
int client_stop(rdpContext*) { return 0; }

}  // namespace

void fill_entry_points(RDP_CLIENT_ENTRY_POINTS* ep) {
  memset(ep, 0, sizeof *ep);
  ep->Version = RDP_CLIENT_INTERFACE_VERSION;
  ep->Size = sizeof(RDP_CLIENT_ENTRY_POINTS_V1);
  ep->ContextSize = sizeof(GhContext);
  ep->ClientNew = client_new;
  ep->ClientFree = client_free;
  ep->ClientStart = client_start;
  ep->ClientStop = client_stop;
}

}  // namespace gatehouse::rdp
