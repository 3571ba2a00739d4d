// Audio output (MS-RDPEA through FreeRDP's rdpsnd channel, static and dynamic) as a Guacamole `audio`
// stream, PCM only, when the client listed audio/L16 in its `audio` instruction and disable-audio is
// not true. The channel is loaded with our in-process device ("sys:gatehouse", rdpsnd_device.cc) and
// "format:1" (WAVE_FORMAT_PCM: no ADPCM or other codecs are negotiated); the AudioSink turns what the
// device plays into the stream (rdpsnd_sink.h).
#include <cctype>
#include <memory>

#include <freerdp/client/cmdline.h>
#include <freerdp/settings.h>

#include "channel_hooks.h"
#include "handshake.h"
#include "log.h"
#include "params.h"
#include "rdpsnd_sink.h"

namespace gatehouse::rdp {

namespace {

// audio/L16, with or without parameters, any case (the client lists mimetypes it can play).
bool accepts_l16(const ClientInfo& client) {
  for (const auto& m : client.audio) {
    std::string base = m.substr(0, m.find(';'));
    if (base.size() != 9) continue;
    bool same = true;
    for (size_t i = 0; i < base.size(); i++) {
      if (std::tolower(static_cast<unsigned char>(base[i])) != "audio/l16"[i]) same = false;
    }
    if (same) return true;
  }
  return false;
}

}  // namespace

class RdpsndModule : public ChannelModule {
 public:
  const char* name() const override { return "rdpsnd"; }

  bool pre_connect(SessionApi& api, rdpSettings* settings) override {
    if (api.config().disable_audio) {
      log_info("audio disabled (disable-audio)");
      return true;
    }
    if (!accepts_l16(api.client())) {
      log_info("audio off: the client does not play audio/L16");
      return true;
    }
    sink_ = std::make_shared<AudioSink>(&api);
    register_rdpsnd_device(sink_);
    char channel[] = "rdpsnd", sys[] = "sys:gatehouse", format[] = "format:1";
    char* args[] = {channel, sys, format};
    // Both transports: Windows uses the dynamic AUDIO_PLAYBACK_DVC, xrdp the static channel.
    // freerdp_client_load_addins() then adds rdpdr (servers want it present for audio).
    if (!freerdp_client_add_static_channel(settings, 3, args) ||
        !freerdp_client_add_dynamic_channel(settings, 3, args)) {
      return false;
    }
    freerdp_settings_set_bool(settings, FreeRDP_AudioPlayback, TRUE);
    log_debug("audio: rdpsnd channel requested");
    return true;
  }

  bool instruction(SessionApi&, const Instruction& ins) override {
    return sink_ && ins.opcode == "ack" && sink_->on_ack(ins);
  }

  void shutdown(SessionApi&) override {
    if (sink_) sink_->shutdown();
  }

 private:
  std::shared_ptr<AudioSink> sink_;
};

GATEHOUSE_RDP_CHANNEL_MODULE(RdpsndModule);

}  // namespace gatehouse::rdp
