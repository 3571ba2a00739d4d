// An rdpsnd device plugin inside the executable: FreeRDP's rdpsnd channel loads its output device by
// subsystem name through freerdp_load_channel_addin_entry(), which asks the registered addin provider
// first. We register a provider that answers ("rdpsnd", "gatehouse") with this device's entry and
// passes every other request on to FreeRDP's own table of built-in addins. The device forwards PCM
// (8/16-bit; the channel is started with format:1 so only PCM is negotiated) to the AudioSink.
#include <cstring>
#include <mutex>

#include <freerdp/addin.h>
#include <freerdp/client/channels.h>
#include <freerdp/client/rdpsnd.h>
#include <freerdp/codec/audio.h>

#include "log.h"
#include "rdpsnd_sink.h"

namespace gatehouse::rdp {

namespace {

struct Device {
  rdpsndDevicePlugin base;  // first: FreeRDP hands us &base
  std::shared_ptr<AudioSink> sink;
};

std::mutex g_mutex;
std::weak_ptr<AudioSink> g_sink;

Device* device_of(rdpsndDevicePlugin* d) { return reinterpret_cast<Device*>(d); }

bool forwardable(const AUDIO_FORMAT* f) {
  return f && f->wFormatTag == WAVE_FORMAT_PCM && (f->wBitsPerSample == 16 || f->wBitsPerSample == 8) &&
         f->nChannels >= 1 && f->nChannels <= 8 && f->nSamplesPerSec >= 8000 && f->nSamplesPerSec <= 192000;
}

BOOL format_supported(rdpsndDevicePlugin*, const AUDIO_FORMAT* f) { return forwardable(f) ? TRUE : FALSE; }

BOOL open_device(rdpsndDevicePlugin* d, const AUDIO_FORMAT* f, UINT32) {
  PcmFormat pcm;
  if (forwardable(f)) {
    pcm.rate = f->nSamplesPerSec;
    pcm.channels = f->nChannels;
    pcm.bits = f->wBitsPerSample;
  } else {
    // Refusing would make FreeRDP fail the whole session: accept, and drop what is played.
    log_warn("audio: the server chose a format we do not forward",
             {kv("tag", static_cast<uint32_t>(f ? f->wFormatTag : 0))});
  }
  device_of(d)->sink->open(pcm);
  return TRUE;
}

UINT32 get_volume(rdpsndDevicePlugin* d) {
  // Asked while answering the server's format list: the negotiation is under way.
  device_of(d)->sink->server_formats_received();
  return 0xFFFFFFFF;  // full volume, both channels
}

BOOL set_volume(rdpsndDevicePlugin*, UINT32) { return TRUE; }

UINT play(rdpsndDevicePlugin* d, const BYTE* data, size_t size) {
  if (data && size > 0) device_of(d)->sink->play(data, size);
  return 0;  // no latency of our own: the browser buffers
}

void close_device(rdpsndDevicePlugin* d) { device_of(d)->sink->close(); }

void free_device(rdpsndDevicePlugin* d) { delete device_of(d); }

UINT device_entry(PFREERDP_RDPSND_DEVICE_ENTRY_POINTS ep) {
  std::shared_ptr<AudioSink> sink;
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    sink = g_sink.lock();
  }
  if (!sink || !ep || !ep->pRegisterRdpsndDevice) return ERROR_INTERNAL_ERROR;
  auto* dev = new (std::nothrow) Device();
  if (!dev) return CHANNEL_RC_NO_MEMORY;
  memset(&dev->base, 0, sizeof dev->base);
  dev->sink = std::move(sink);
  dev->base.FormatSupported = format_supported;
  dev->base.Open = open_device;
  dev->base.GetVolume = get_volume;
  dev->base.SetVolume = set_volume;
  dev->base.Play = play;
  dev->base.Close = close_device;
  dev->base.Free = free_device;
  ep->pRegisterRdpsndDevice(ep->rdpsnd, &dev->base);
  log_debug("audio: rdpsnd device created");
  return CHANNEL_RC_OK;
}

PVIRTUALCHANNELENTRY addin_provider(LPCSTR name, LPCSTR subsystem, LPCSTR type, DWORD flags) {
  if (name && subsystem && strcmp(name, "rdpsnd") == 0 && strcmp(subsystem, kRdpsndSubsystem) == 0) {
    // Via void(*)(): FreeRDP casts the entry back to the device entry type before calling it.
    return reinterpret_cast<PVIRTUALCHANNELENTRY>(reinterpret_cast<void (*)()>(device_entry));
  }
  return freerdp_channels_load_static_addin_entry(name, subsystem, type, flags);
}

}  // namespace

void register_rdpsnd_device(const std::shared_ptr<AudioSink>& sink) {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_sink = sink;
  // freerdp_client_context_new() registers FreeRDP's own provider; ours replaces it and delegates.
  freerdp_register_addin_provider(addin_provider, 0);
}

}  // namespace gatehouse::rdp
