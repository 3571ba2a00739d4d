// Clipboard redirection (MS-RDPECLIP over FreeRDP's static "cliprdr" channel), text only.
//
// Remote -> browser: the server's Format List is answered (Format List Response), then the module asks
// for CF_UNICODETEXT (else CF_TEXT), converts the answer to UTF-8, applies `normalize-clipboard` and
// sends it as a Guacamole `clipboard` stream (text/plain, blobs <= 6048 bytes, end); not with
// disable-copy. Browser -> remote: a client `clipboard` stream (text/plain; other types: ack 0x0100)
// is collected (each blob acked, at most kMaxClipboardBytes: beyond, ack 0x030D and drop); on `end`
// the module announces CF_UNICODETEXT (Format List) and answers the server's Format Data Request with
// the text as UTF-16LE + NUL (CF_TEXT as Windows-1252 if asked); with disable-paste the stream is
// refused with ack 0x0303. Handshake: after the server's Monitor Ready the module sends its
// capabilities (general, version 2, long format names) and its Format List (empty, or the browser's
// text if it arrived first).
//
// Threading: FreeRDP's cliprdr callbacks (cliprdr_channel.cc) copy what they need and post() it; all
// state lives on the main thread. The CliprdrClientContext pointer is published atomically.
#ifndef GATEHOUSE_RDP_CLIPRDR_MODULE_H_
#define GATEHOUSE_RDP_CLIPRDR_MODULE_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include <freerdp/client/cliprdr.h>

#include "channel_hooks.h"
#include "cliprdr_text.h"

namespace gatehouse::rdp {

inline constexpr size_t kMaxClipboardBytes = 256 * 1024;  // UTF-8 text, either direction

class CliprdrModule : public ChannelModule {
 public:
  const char* name() const override { return "cliprdr"; }
  std::vector<std::string> param_names() const override { return {"normalize-clipboard"}; }
  std::string validate(const std::map<std::string, std::string>& params) override;
  bool pre_connect(SessionApi& api, rdpSettings* settings) override;
  void channel_connected(SessionApi& api, const ChannelConnectedEventArgs* e) override;
  void channel_disconnected(SessionApi& api, const ChannelDisconnectedEventArgs* e) override;
  bool instruction(SessionApi& api, const Instruction& ins) override;
  void shutdown(SessionApi& api) override;

  // Server PDUs, on the main thread (posted by the callbacks in cliprdr_channel.cc).
  void on_monitor_ready();
  void on_format_list(const std::vector<uint32_t>& formats);
  void on_data_response(bool ok, const std::string& data);
  void on_data_request(uint32_t format);
  SessionApi* api() const { return api_; }

 private:
  // Client stream handling (cliprdr_module.cc).
  void begin_stream(const Instruction& ins);
  void stream_blob(const Instruction& ins);
  void stream_end();
  void refuse(const std::string& stream, const char* message, int status);
  bool is_refused(const std::string& stream) const;
  void unrefuse(const std::string& stream);
  void send_to_client(const std::string& utf8);
  // PDUs to the server (cliprdr_channel.cc).
  void send_capabilities(CliprdrClientContext* c);
  void send_format_list(CliprdrClientContext* c);
  void send_data_response(CliprdrClientContext* c, const uint8_t* data, size_t len, bool ok);
  void attach(CliprdrClientContext* c);

  SessionApi* api_ = nullptr;
  cliptext::LineEndings endings_ = cliptext::LineEndings::kPreserve;
  bool enabled_ = false;  // the channel was requested (copy or paste allowed)
  std::atomic<CliprdrClientContext*> cliprdr_{nullptr};
  bool ready_ = false;                // Monitor Ready seen, our capabilities sent
  std::deque<uint32_t> requested_;    // formats of our outstanding Format Data Requests
  bool have_local_ = false;           // the browser's text is announced to the server
  std::string local_text_;            // that text (UTF-8, normalized)
  std::string in_stream_;             // the client stream being received ("" none)
  std::string in_data_;
  std::deque<std::string> refused_;   // client streams whose further blobs/end are dropped
};

}  // namespace gatehouse::rdp

#endif  // GATEHOUSE_RDP_CLIPRDR_MODULE_H_
