// The cliprdr module's FreeRDP side: the CliprdrClientContext callbacks (which copy what they need and
// post it to the main thread) and the PDUs the module sends (see cliprdr_module.h).
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include <freerdp/channels/cliprdr.h>
#include <winpr/user.h>

#include "cliprdr_module.h"
#include "log.h"
#include "params.h"

namespace gatehouse::rdp {

namespace {

// Raw clipboard data copied from the server at most: enough for kMaxClipboardBytes of UTF-8 from
// UTF-16 (ASCII doubles in size); the converted text is cut at kMaxClipboardBytes anyway.
constexpr size_t kMaxRawCopy = kMaxClipboardBytes * 2 + 2;

CliprdrModule* module_of(CliprdrClientContext* c) { return c ? static_cast<CliprdrModule*>(c->custom) : nullptr; }

UINT cb_server_capabilities(CliprdrClientContext* c, const CLIPRDR_CAPABILITIES* caps) {
  (void)c;
  UINT32 flags = 0;
  for (UINT32 i = 0; caps && i < caps->cCapabilitiesSets; i++) {
    const CLIPRDR_CAPABILITY_SET* set = &caps->capabilitySets[i];
    if (set->capabilitySetType == CB_CAPSTYPE_GENERAL) {
      flags = reinterpret_cast<const CLIPRDR_GENERAL_CAPABILITY_SET*>(set)->generalFlags;
    }
  }
  log_debug("cliprdr: server capabilities", {kv("generalFlags", static_cast<uint32_t>(flags))});
  return CHANNEL_RC_OK;
}

UINT cb_monitor_ready(CliprdrClientContext* c, const CLIPRDR_MONITOR_READY*) {
  CliprdrModule* m = module_of(c);
  if (m) m->api()->post([m] { m->on_monitor_ready(); });
  return CHANNEL_RC_OK;
}

UINT cb_server_format_list(CliprdrClientContext* c, const CLIPRDR_FORMAT_LIST* list) {
  CliprdrModule* m = module_of(c);
  if (!m) return CHANNEL_RC_OK;
  std::vector<uint32_t> formats;
  for (UINT32 i = 0; list && i < list->numFormats && i < 256; i++) formats.push_back(list->formats[i].formatId);
  m->api()->post([m, formats = std::move(formats)] { m->on_format_list(formats); });
  return CHANNEL_RC_OK;
}

UINT cb_server_format_list_response(CliprdrClientContext*, const CLIPRDR_FORMAT_LIST_RESPONSE* r) {
  if (r && (r->msgFlags & CB_RESPONSE_FAIL)) log_warn("cliprdr: the server refused our format list");
  return CHANNEL_RC_OK;
}

UINT cb_server_data_request(CliprdrClientContext* c, const CLIPRDR_FORMAT_DATA_REQUEST* r) {
  CliprdrModule* m = module_of(c);
  if (!m || !r) return CHANNEL_RC_OK;
  uint32_t format = r->requestedFormatId;
  m->api()->post([m, format] { m->on_data_request(format); });
  return CHANNEL_RC_OK;
}

UINT cb_server_data_response(CliprdrClientContext* c, const CLIPRDR_FORMAT_DATA_RESPONSE* r) {
  CliprdrModule* m = module_of(c);
  if (!m || !r) return CHANNEL_RC_OK;
  bool ok = (r->msgFlags & CB_RESPONSE_OK) != 0 && !(r->msgFlags & CB_RESPONSE_FAIL);
  std::string data;
  if (ok && r->requestedFormatData && r->dataLen > 0) {
    data.assign(reinterpret_cast<const char*>(r->requestedFormatData), std::min<size_t>(r->dataLen, kMaxRawCopy));
  }
  m->api()->post([m, ok, data = std::move(data)] { m->on_data_response(ok, data); });
  return CHANNEL_RC_OK;
}

UINT cb_server_file_contents_request(CliprdrClientContext* c, const CLIPRDR_FILE_CONTENTS_REQUEST* r) {
  // We never announce files; refuse anything asked.
  CLIPRDR_FILE_CONTENTS_RESPONSE resp;
  memset(&resp, 0, sizeof resp);
  resp.msgType = CB_FILECONTENTS_RESPONSE;
  resp.msgFlags = CB_RESPONSE_FAIL;
  resp.streamId = r ? r->streamId : 0;
  return c->ClientFileContentsResponse ? c->ClientFileContentsResponse(c, &resp) : CHANNEL_RC_OK;
}

UINT cb_server_lock(CliprdrClientContext*, const CLIPRDR_LOCK_CLIPBOARD_DATA*) { return CHANNEL_RC_OK; }
UINT cb_server_unlock(CliprdrClientContext*, const CLIPRDR_UNLOCK_CLIPBOARD_DATA*) { return CHANNEL_RC_OK; }

}  // namespace

void CliprdrModule::channel_connected(SessionApi& api, const ChannelConnectedEventArgs* e) {
  if (strcmp(e->name, CLIPRDR_SVC_CHANNEL_NAME) != 0 || !e->pInterface) return;
  api_ = &api;
  attach(static_cast<CliprdrClientContext*>(e->pInterface));
}

void CliprdrModule::attach(CliprdrClientContext* c) {
  // No PDU has arrived yet (ChannelConnected precedes the channel's data), so the callbacks can be set
  // from whatever thread this is.
  c->custom = this;
  c->ServerCapabilities = cb_server_capabilities;
  c->MonitorReady = cb_monitor_ready;
  c->ServerFormatList = cb_server_format_list;
  c->ServerFormatListResponse = cb_server_format_list_response;
  c->ServerFormatDataRequest = cb_server_data_request;
  c->ServerFormatDataResponse = cb_server_data_response;
  c->ServerFileContentsRequest = cb_server_file_contents_request;
  c->ServerLockClipboardData = cb_server_lock;
  c->ServerUnlockClipboardData = cb_server_unlock;
  cliprdr_.store(c);
  log_debug("cliprdr: channel connected");
}

void CliprdrModule::send_capabilities(CliprdrClientContext* c) {
  CLIPRDR_GENERAL_CAPABILITY_SET general;
  memset(&general, 0, sizeof general);
  general.capabilitySetType = CB_CAPSTYPE_GENERAL;
  general.capabilitySetLength = CB_CAPSTYPE_GENERAL_LEN;
  general.version = CB_CAPS_VERSION_2;
  general.generalFlags = CB_USE_LONG_FORMAT_NAMES;
  CLIPRDR_CAPABILITIES caps;
  memset(&caps, 0, sizeof caps);
  caps.msgType = CB_CLIP_CAPS;
  caps.cCapabilitiesSets = 1;
  caps.capabilitySets = reinterpret_cast<CLIPRDR_CAPABILITY_SET*>(&general);
  UINT rc = c->ClientCapabilities ? c->ClientCapabilities(c, &caps) : CHANNEL_RC_OK;
  if (rc != CHANNEL_RC_OK) log_warn("cliprdr: sending capabilities failed", {kv("rc", static_cast<uint32_t>(rc))});
}

void CliprdrModule::send_format_list(CliprdrClientContext* c) {
  CLIPRDR_FORMAT format;
  memset(&format, 0, sizeof format);
  format.formatId = CF_UNICODETEXT;
  CLIPRDR_FORMAT_LIST list;
  memset(&list, 0, sizeof list);
  list.msgType = CB_FORMAT_LIST;
  bool announce = have_local_ && !api_->config().disable_paste;
  list.numFormats = announce ? 1 : 0;
  list.formats = announce ? &format : nullptr;
  UINT rc = c->ClientFormatList ? c->ClientFormatList(c, &list) : CHANNEL_RC_OK;
  if (rc != CHANNEL_RC_OK) log_warn("cliprdr: sending the format list failed", {kv("rc", static_cast<uint32_t>(rc))});
  else if (announce) log_debug("cliprdr: announced the client's text to the server");
}

void CliprdrModule::send_data_response(CliprdrClientContext* c, const uint8_t* data, size_t len, bool ok) {
  CLIPRDR_FORMAT_DATA_RESPONSE resp;
  memset(&resp, 0, sizeof resp);
  resp.msgType = CB_FORMAT_DATA_RESPONSE;
  resp.msgFlags = ok ? CB_RESPONSE_OK : CB_RESPONSE_FAIL;
  resp.dataLen = ok ? static_cast<UINT32>(len) : 0;
  resp.requestedFormatData = ok ? data : nullptr;
  UINT rc = c->ClientFormatDataResponse ? c->ClientFormatDataResponse(c, &resp) : CHANNEL_RC_OK;
  if (rc != CHANNEL_RC_OK) log_warn("cliprdr: sending clipboard data failed", {kv("rc", static_cast<uint32_t>(rc))});
}

void CliprdrModule::on_monitor_ready() {
  CliprdrClientContext* c = cliprdr_.load();
  if (!c) return;
  send_capabilities(c);
  ready_ = true;
  send_format_list(c);
  log_info("clipboard channel ready");
}

void CliprdrModule::on_format_list(const std::vector<uint32_t>& formats) {
  CliprdrClientContext* c = cliprdr_.load();
  if (!c) return;
  CLIPRDR_FORMAT_LIST_RESPONSE ok;
  memset(&ok, 0, sizeof ok);
  ok.msgType = CB_FORMAT_LIST_RESPONSE;
  ok.msgFlags = CB_RESPONSE_OK;
  if (c->ClientFormatListResponse) c->ClientFormatListResponse(c, &ok);
  have_local_ = false;  // the server's clipboard owner changed: ours is no longer announced
  if (api_->config().disable_copy) {
    log_debug("cliprdr: server clipboard changed; not forwarded (disable-copy)");
    return;
  }
  uint32_t wanted = 0;
  for (uint32_t f : formats) {
    if (f == CF_UNICODETEXT) wanted = f;
    else if (f == CF_TEXT && wanted == 0) wanted = f;
  }
  if (wanted == 0) {
    log_debug("cliprdr: server clipboard has no text", {kv("formats", static_cast<int64_t>(formats.size()))});
    return;
  }
  CLIPRDR_FORMAT_DATA_REQUEST req;
  memset(&req, 0, sizeof req);
  req.msgType = CB_FORMAT_DATA_REQUEST;
  req.dataLen = 4;
  req.requestedFormatId = wanted;
  if (requested_.size() >= 16) requested_.pop_front();  // a server that never answers: forget the oldest
  requested_.push_back(wanted);
  c->lastRequestedFormatId = wanted;
  UINT rc = c->ClientFormatDataRequest ? c->ClientFormatDataRequest(c, &req) : CHANNEL_RC_OK;
  if (rc != CHANNEL_RC_OK) {
    requested_.pop_back();
    log_warn("cliprdr: requesting the server's clipboard failed", {kv("rc", static_cast<uint32_t>(rc))});
  }
}

void CliprdrModule::on_data_response(bool ok, const std::string& data) {
  if (requested_.empty()) {
    log_debug("cliprdr: unexpected clipboard data from the server ignored");
    return;
  }
  uint32_t format = requested_.front();
  requested_.pop_front();
  if (!ok) {
    log_debug("cliprdr: the server could not provide its clipboard");
    return;
  }
  if (api_->config().disable_copy) return;
  bool truncated = false;
  const auto* bytes = reinterpret_cast<const uint8_t*>(data.data());
  std::string text = format == CF_UNICODETEXT
                         ? cliptext::utf16le_to_utf8(bytes, data.size(), kMaxClipboardBytes, &truncated)
                         : cliptext::cp1252_to_utf8(bytes, data.size(), kMaxClipboardBytes, &truncated);
  if (truncated || data.size() >= kMaxRawCopy) {
    log_warn("clipboard from the server cut", {kv("limitBytes", static_cast<int64_t>(kMaxClipboardBytes))});
  }
  text = cliptext::normalize_line_endings(text, endings_);
  if (text.size() > kMaxClipboardBytes) {  // CRLF normalization can grow it: cut at a character
    size_t cut = kMaxClipboardBytes;
    while (cut > 0 && (static_cast<uint8_t>(text[cut]) & 0xC0) == 0x80) cut--;
    text.resize(cut);
  }
  log_info("clipboard sent to the client", {kv("bytes", static_cast<int64_t>(text.size())),
                                            kv("format", format == CF_UNICODETEXT ? "CF_UNICODETEXT" : "CF_TEXT")});
  send_to_client(text);
}

void CliprdrModule::on_data_request(uint32_t format) {
  CliprdrClientContext* c = cliprdr_.load();
  if (!c) return;
  if (!have_local_ || api_->config().disable_paste || (format != CF_UNICODETEXT && format != CF_TEXT)) {
    log_debug("cliprdr: server asked for clipboard data we do not have", {kv("format", static_cast<uint32_t>(format))});
    send_data_response(c, nullptr, 0, false);
    return;
  }
  std::vector<uint8_t> data = format == CF_UNICODETEXT ? cliptext::utf8_to_utf16le(local_text_)
                                                       : cliptext::utf8_to_cp1252(local_text_);
  send_data_response(c, data.data(), data.size(), true);
  log_debug("cliprdr: sent the client's text to the server", {kv("bytes", static_cast<int64_t>(data.size()))});
}

}  // namespace gatehouse::rdp
