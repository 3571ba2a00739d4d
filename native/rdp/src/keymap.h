// Keysym -> scancode tables, parsed from the keymaps compiled in from native/rdp/keymaps/*.txt
// (format described at the top of en-us-qwerty.txt).
#ifndef GATEHOUSE_RDP_KEYMAP_H_
#define GATEHOUSE_RDP_KEYMAP_H_

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace gatehouse::rdp {

struct KeyMapping {
  uint32_t scancode = 0;  // RDP scancode: low byte, plus 0x100 (KBDEXT) for extended keys
  int8_t shift = 0;       // +1 must be held, -1 must be released, 0 either
  int8_t altgr = 0;
  bool caps = false;      // Caps Lock inverts the shift requirement
  bool num = false;       // Num Lock must be on
};

struct Keymap {
  std::string name;
  std::string parent;     // `parent <name>`: its keys first, this file's entries override them
  bool internal = false;  // `internal`: only a parent, not a server-layout value
  uint32_t layout_id = 0x409;
  std::unordered_map<uint32_t, KeyMapping> keys;
};

// Parses one keymap file; false with `error` (naming the line) when malformed. Parents are not resolved.
bool parse_keymap(const std::string& text, Keymap* out, std::string* error);
// Fills each map's keys from its parents (a parent's entry is kept unless the child has one for the same
// keysym). False with `error` for an unknown parent or a cycle.
bool resolve_keymap_parents(std::vector<Keymap>* maps, std::string* error);
// A compiled-in, selectable (not internal) keymap by its `name`, or null.
const Keymap* find_keymap(const std::string& name);
// Names of the compiled-in keymaps, comma-separated.
std::string known_keymaps();

}  // namespace gatehouse::rdp

#endif  // GATEHOUSE_RDP_KEYMAP_H_
