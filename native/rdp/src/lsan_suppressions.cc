// LeakSanitizer suppressions compiled into the sanitizer build of gatehouse-rdp (LSan calls
// __lsan_default_suppressions() at start-up; nothing here exists in the release build).
//
// freerdp_channels_data: FreeRDP 2.11's rdpdr client (loaded with rdpsnd: servers want device redirection
// beside audio) never frees the stream of a PDU it fails to process. xrdp 0.9 sends User Logged On
// (4 bytes) without announcing RDPDR_USER_LOGGEDON_PDU, rdpdr logs "Checking ExtendedPDU::
// RDPDR_USER_LOGGEDON_PDU, client supported, server not found" and leaks that one 60-byte stream per
// session. The frame is FreeRDP's static-channel receive path, so only leaks of channel PDU buffers match.
#if defined(GATEHOUSE_SANITIZE)
extern "C" const char* __lsan_default_suppressions();
extern "C" const char* __lsan_default_suppressions() { return "leak:freerdp_channels_data\n"; }
#endif
