// RdpConfig -> FreeRDP rdpSettings, and the client entry points (callbacks) of our context.
#ifndef GATEHOUSE_RDP_RDP_SETTINGS_H_
#define GATEHOUSE_RDP_RDP_SETTINGS_H_

#include <string>

#include <freerdp/client.h>
#include <freerdp/freerdp.h>

#include "params.h"

namespace gatehouse::rdp {

// Applies the connection parameters. `config_dir` is a private, writable directory for FreeRDP's
// certificate store (it insists on creating one). False with `error` on failure.
bool apply_settings(const RdpConfig& config, const std::string& config_dir, rdpSettings* settings,
                    std::string* error);

// Entry points for freerdp_client_context_new: our context size and the instance callbacks
// (PreConnect, PostConnect, PostDisconnect, authentication, certificate checks).
void fill_entry_points(RDP_CLIENT_ENTRY_POINTS* entry_points);

}  // namespace gatehouse::rdp

#endif  // GATEHOUSE_RDP_RDP_SETTINGS_H_
