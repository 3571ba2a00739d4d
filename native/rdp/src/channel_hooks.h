// Hooks for virtual-channel modules (cliprdr, rdpsnd, ...): adding one is adding a .cc file that
// implements ChannelModule and registers it with GATEHOUSE_RDP_CHANNEL_MODULE(ClassName). The build
// compiles every native/rdp/src/*.cc, so no other file changes.
//
// Lifecycle, for each registered module (one instance per session, created after the handshake):
//   param_names()        extra connection parameters, appended to `args` after the core ones
//   validate()           before connecting; a non-empty result is sent as error 0x0300
//   pre_connect()        in FreeRDP's PreConnect: enable the channel in rdpSettings (e.g.
//                        RedirectClipboard, AudioPlayback + freerdp_client_add_static_channel)
//   channel_connected()  FreeRDP's PubSub ChannelConnected for every channel (any FreeRDP thread):
//                        keep e->pInterface (CliprdrClientContext*, RdpsndClientContext*...)
//   instruction()        client instructions the core does not handle (clipboard, blob, end, ack,
//                        file, pipe, ...); return true when handled
//   shutdown()           the session ends (main thread), before FreeRDP is freed
// Threading: instruction()/shutdown() run on the main thread, which owns the Guacamole output.
// From FreeRDP's channel threads, call SessionApi::post() and send from the posted function.
#ifndef GATEHOUSE_RDP_CHANNEL_HOOKS_H_
#define GATEHOUSE_RDP_CHANNEL_HOOKS_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <freerdp/client/channels.h>
#include <freerdp/freerdp.h>

#include "guac_io.h"

namespace gatehouse::rdp {

struct RdpConfig;
struct ClientInfo;

// What the session offers a module.
class SessionApi {
 public:
  virtual ~SessionApi() = default;
  // Main thread only: queue one instruction / blob chunks (<= 6048 raw bytes each) to the client.
  virtual void send(std::initializer_list<std::string_view> instruction) = 0;
  virtual void send_blobs(int stream, const uint8_t* data, size_t len) = 0;
  // Main thread only: a free server-side stream index (-1 if all 512 are in use); give it back after
  // sending `end`.
  virtual int alloc_stream() = 0;
  virtual void free_stream(int index) = 0;
  // Any thread: runs `fn` on the main thread soon (in order of posting).
  virtual void post(std::function<void()> fn) = 0;
  virtual const RdpConfig& config() const = 0;
  virtual const ClientInfo& client() const = 0;
  // The FreeRDP context (null before the connection starts).
  virtual rdpContext* context() const = 0;
};

class ChannelModule {
 public:
  virtual ~ChannelModule() = default;
  virtual const char* name() const = 0;
  virtual std::vector<std::string> param_names() const { return {}; }
  // "" when the values are fine, else a message naming the parameter.
  virtual std::string validate(const std::map<std::string, std::string>& params) {
    (void)params;
    return "";
  }
  virtual bool pre_connect(SessionApi& api, rdpSettings* settings) {
    (void)api;
    (void)settings;
    return true;
  }
  virtual void channel_connected(SessionApi& api, const ChannelConnectedEventArgs* e) {
    (void)api;
    (void)e;
  }
  virtual void channel_disconnected(SessionApi& api, const ChannelDisconnectedEventArgs* e) {
    (void)api;
    (void)e;
  }
  virtual bool instruction(SessionApi& api, const Instruction& ins) {
    (void)api;
    (void)ins;
    return false;
  }
  virtual void shutdown(SessionApi& api) { (void)api; }
};

using ChannelModuleFactory = std::unique_ptr<ChannelModule> (*)();

// Registers a factory at static-initialisation time (see GATEHOUSE_RDP_CHANNEL_MODULE).
struct ChannelModuleRegistrar {
  ChannelModuleRegistrar(const char* name, ChannelModuleFactory factory);
};

// One new instance of every registered module, in registration-name order.
std::vector<std::unique_ptr<ChannelModule>> create_channel_modules();
// The extra parameter names of all registered modules.
std::vector<std::string> channel_module_param_names();
// Runs every module's validate(); the first error, or "".
std::string validate_channel_module_params(const std::map<std::string, std::string>& params);

}  // namespace gatehouse::rdp

#define GATEHOUSE_RDP_CHANNEL_MODULE(Class)                                             \
  static const ::gatehouse::rdp::ChannelModuleRegistrar gatehouse_rdp_registrar_##Class( \
      #Class, []() -> std::unique_ptr<::gatehouse::rdp::ChannelModule> {                 \
        return std::make_unique<Class>();                                               \
      })

#endif  // GATEHOUSE_RDP_CHANNEL_HOOKS_H_
