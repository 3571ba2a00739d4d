// Guacamole `key` events -> RDP keyboard input: keymap scancodes (with the Shift / AltGr / Num Lock
// state each keysym needs), Unicode keyboard events for keysyms without a scancode, and the server's
// lock state tracked from its keyboard indicators.
#ifndef GATEHOUSE_RDP_KEYBOARD_H_
#define GATEHOUSE_RDP_KEYBOARD_H_

#include <atomic>
#include <cstdint>
#include <unordered_map>

#include <freerdp/input.h>

#include "keymap.h"

namespace gatehouse::rdp {

// The Unicode codepoint a keysym types, or 0 when it has none we know.
uint32_t keysym_to_unicode(uint32_t keysym);

class Keyboard {
 public:
  static constexpr size_t kMaxPressed = 64;

  void set_keymap(const Keymap* map) { map_ = map; }
  void set_input(rdpInput* input) { input_ = input; }
  // A client key event (main thread).
  void key(uint32_t keysym, bool pressed);
  // Releases every key still held (before disconnecting, or on focus loss).
  void release_all();
  // Sends the lock state we assume to the server (all off), at connect.
  void sync_locks(uint32_t flags);
  // The server's keyboard indicators (KBD_SYNC_* flags; any thread).
  void server_indicators(uint16_t flags) { locks_.store(flags); }

 private:
  void scancode(uint32_t code, bool down);
  bool held(uint32_t keysym) const { return pressed_.count(keysym) != 0; }

  rdpInput* input_ = nullptr;
  const Keymap* map_ = nullptr;
  std::unordered_map<uint32_t, uint32_t> pressed_;  // keysym -> scancode, or kUnicode | codepoint
  std::atomic<uint32_t> locks_{0};
};

}  // namespace gatehouse::rdp

#endif  // GATEHOUSE_RDP_KEYBOARD_H_
