// The cliprdr module's lifecycle and its Guacamole side (see cliprdr_module.h).
#include "cliprdr_module.h"

#include <cctype>
#include <cstring>

#include <freerdp/settings.h>

#include "log.h"
#include "params.h"
#include "status.h"

namespace gatehouse::rdp {

namespace {

constexpr size_t kMaxRefused = 16;

bool is_stream_index(const std::string& s) {
  if (s.empty() || s.size() > 9) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// text/plain, with or without parameters (charset=utf-8), any case.
bool is_text_plain(const std::string& mimetype) {
  std::string base = mimetype.substr(0, mimetype.find(';'));
  while (!base.empty() && base.back() == ' ') base.pop_back();
  if (base.size() != 10) return false;
  for (size_t i = 0; i < base.size(); i++) {
    if (std::tolower(static_cast<unsigned char>(base[i])) != "text/plain"[i]) return false;
  }
  return true;
}

}  // namespace

std::string CliprdrModule::validate(const std::map<std::string, std::string>& params) {
  auto it = params.find("normalize-clipboard");
  cliptext::LineEndings e;
  if (it != params.end() && !cliptext::parse_line_endings(it->second, &e)) {
    return "Invalid parameter \"normalize-clipboard\": expected preserve, unix or windows";
  }
  return "";
}

bool CliprdrModule::pre_connect(SessionApi& api, rdpSettings* settings) {
  api_ = &api;
  const RdpConfig& c = api.config();
  auto it = c.raw.find("normalize-clipboard");
  if (it != c.raw.end()) cliptext::parse_line_endings(it->second, &endings_);
  enabled_ = !(c.disable_copy && c.disable_paste);
  if (!enabled_) {
    log_info("clipboard disabled (disable-copy and disable-paste)");
    return true;
  }
  // freerdp_client_load_addins() then loads the static "cliprdr" channel.
  return freerdp_settings_set_bool(settings, FreeRDP_RedirectClipboard, TRUE) == TRUE;
}

void CliprdrModule::channel_disconnected(SessionApi&, const ChannelDisconnectedEventArgs* e) {
  if (strcmp(e->name, CLIPRDR_SVC_CHANNEL_NAME) != 0) return;
  auto* c = static_cast<CliprdrClientContext*>(e->pInterface);
  if (c) c->custom = nullptr;
  cliprdr_.store(nullptr);
}

void CliprdrModule::shutdown(SessionApi&) {
  CliprdrClientContext* c = cliprdr_.exchange(nullptr);
  if (c) c->custom = nullptr;
}

bool CliprdrModule::is_refused(const std::string& stream) const {
  for (const auto& s : refused_) {
    if (s == stream) return true;
  }
  return false;
}

void CliprdrModule::unrefuse(const std::string& stream) {
  for (auto it = refused_.begin(); it != refused_.end(); ++it) {
    if (*it == stream) {
      refused_.erase(it);
      return;
    }
  }
}

void CliprdrModule::refuse(const std::string& stream, const char* message, int st) {
  api_->send({"ack", stream, message, std::to_string(st)});
  if (!is_refused(stream)) {
    if (refused_.size() >= kMaxRefused) refused_.pop_front();
    refused_.push_back(stream);
  }
}

bool CliprdrModule::instruction(SessionApi& api, const Instruction& ins) {
  api_ = &api;
  const std::string& op = ins.opcode;
  if (op == "clipboard") {
    if (ins.args.size() < 2 || !is_stream_index(ins.args[0])) return false;  // the core refuses it
    begin_stream(ins);
    return true;
  }
  if ((op == "blob" || op == "end") && !ins.args.empty()) {
    const std::string& stream = ins.args[0];
    if (!in_stream_.empty() && stream == in_stream_) {
      if (op == "blob") stream_blob(ins);
      else stream_end();
      return true;
    }
    if (is_refused(stream)) {
      if (op == "end") unrefuse(stream);
      return true;  // the rest of a refused stream: dropped
    }
  }
  return false;
}

void CliprdrModule::begin_stream(const Instruction& ins) {
  const std::string& stream = ins.args[0];
  unrefuse(stream);  // the client reuses the index of a stream it has given up
  if (api_->config().disable_paste) {
    log_info("clipboard from the client refused (disable-paste)");
    refuse(stream, "Clipboard paste is disabled", status::kClientForbidden);
    return;
  }
  if (!is_text_plain(ins.args[1])) {
    log_info("clipboard from the client refused: unsupported type",
             {kv("mimetype", sanitize_utf8(ins.args[1].substr(0, 64)))});
    refuse(stream, "Unsupported clipboard type", status::kUnsupported);
    return;
  }
  if (!in_stream_.empty() && in_stream_ != stream) {
    // A newer clipboard replaces an unfinished one; the old stream's remainder is dropped.
    if (refused_.size() >= kMaxRefused) refused_.pop_front();
    refused_.push_back(in_stream_);
  }
  in_stream_ = stream;
  in_data_.clear();
}

void CliprdrModule::stream_blob(const Instruction& ins) {
  std::string stream = in_stream_;
  size_t before = in_data_.size();
  bool ok = ins.args.size() >= 2 && cliptext::base64_decode_append(ins.args[1], &in_data_);
  if (!ok) {
    in_stream_.clear();
    in_data_.clear();
    log_warn("clipboard from the client dropped: invalid blob");
    refuse(stream, "Invalid clipboard data", status::kClientBadRequest);
    return;
  }
  if (in_data_.size() > kMaxClipboardBytes) {
    in_stream_.clear();
    in_data_.clear();
    in_data_.shrink_to_fit();
    log_warn("clipboard from the client dropped: too large",
             {kv("limitBytes", static_cast<int64_t>(kMaxClipboardBytes)),
              kv("receivedBytes", static_cast<int64_t>(before + (ins.args[1].size() / 4) * 3))});
    refuse(stream, "Clipboard data too large", status::kClientOverrun);
    return;
  }
  api_->send({"ack", stream, "OK", "0"});
}

void CliprdrModule::stream_end() {
  std::string text = cliptext::normalize_line_endings(in_data_, endings_);
  in_stream_.clear();
  in_data_.clear();
  in_data_.shrink_to_fit();
  // Repair invalid UTF-8 now, so CF_UNICODETEXT and CF_TEXT answers agree.
  std::string clean;
  clean.reserve(text.size());
  for (size_t pos = 0; pos < text.size();) cliptext::append_utf8(cliptext::next_utf8(text, &pos), &clean);
  local_text_ = std::move(clean);
  have_local_ = true;
  log_info("clipboard received from the client", {kv("bytes", static_cast<int64_t>(local_text_.size()))});
  CliprdrClientContext* c = cliprdr_.load();
  if (c && ready_) send_format_list(c);
  // Otherwise announced after the server's Monitor Ready.
}

void CliprdrModule::send_to_client(const std::string& utf8) {
  int stream = api_->alloc_stream();
  if (stream < 0) {
    log_warn("clipboard for the client dropped: no free stream");
    return;
  }
  std::string index = std::to_string(stream);
  api_->send({"clipboard", index, "text/plain"});
  api_->send_blobs(stream, reinterpret_cast<const uint8_t*>(utf8.data()), utf8.size());
  api_->send({"end", index});
  api_->free_stream(stream);
}

GATEHOUSE_RDP_CHANNEL_MODULE(CliprdrModule);

}  // namespace gatehouse::rdp
