#include "keymap.h"

#include <cstdlib>
#include <functional>
#include <mutex>
#include <sstream>
#include <vector>

#include "keymaps_generated.h"
#include "log.h"

namespace gatehouse::rdp {

namespace {

bool parse_hex(const std::string& s, uint32_t max, uint32_t* out) {
  if (s.size() < 3 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || s.size() > 10) return false;
  char* end = nullptr;
  unsigned long v = std::strtoul(s.c_str() + 2, &end, 16);
  if (*end != '\0' || v > max) return false;
  *out = static_cast<uint32_t>(v);
  return true;
}

const std::vector<Keymap>& loaded() {
  static std::vector<Keymap> maps;
  static std::once_flag once;
  std::call_once(once, [] {
    for (const auto& e : kEmbeddedKeymaps) {
      Keymap km;
      std::string error;
      if (parse_keymap(e.text, &km, &error)) {
        maps.push_back(std::move(km));
      } else {
        log_error("keymap file rejected", {kv("file", e.file), kv("error", error)});
      }
    }
    std::string error;
    if (!resolve_keymap_parents(&maps, &error)) {
      log_error("keymaps rejected", {kv("error", error)});
      maps.clear();
    }
  });
  return maps;
}

}  // namespace

bool parse_keymap(const std::string& text, Keymap* out, std::string* error) {
  std::istringstream in(text);
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    number++;
    size_t hash = line.find('#');
    if (hash != std::string::npos) line.resize(hash);
    std::istringstream words(line);
    std::vector<std::string> w;
    for (std::string t; words >> t;) w.push_back(t);
    if (w.empty()) continue;
    auto fail = [&](const std::string& why) {
      *error = "line " + std::to_string(number) + ": " + why;
      return false;
    };
    if (w[0] == "name") {
      if (w.size() != 2) return fail("name takes one word");
      out->name = w[1];
      continue;
    }
    if (w[0] == "parent") {
      if (w.size() != 2) return fail("parent takes one word");
      out->parent = w[1];
      continue;
    }
    if (w[0] == "internal") {
      if (w.size() != 1) return fail("internal takes no value");
      out->internal = true;
      continue;
    }
    if (w[0] == "layout") {
      if (w.size() != 2 || !parse_hex(w[1], 0xFFFFFFFFu, &out->layout_id)) return fail("bad layout id");
      continue;
    }
    uint32_t keysym, code;
    if (w.size() < 2 || !parse_hex(w[0], 0xFFFFFFFFu, &keysym) || !parse_hex(w[1], 0xE0FFu, &code)) {
      return fail("expected <keysym hex> <scancode hex> [flags]");
    }
    KeyMapping m;
    if ((code & 0xFF00) == 0xE000) m.scancode = (code & 0xFF) | 0x100;
    else if (code <= 0xFF) m.scancode = code;
    else return fail("scancode must be 0xNN or 0xE0NN");
    for (size_t i = 2; i < w.size(); i++) {
      const std::string& f = w[i];
      if (f == "+shift") m.shift = 1;
      else if (f == "-shift") m.shift = -1;
      else if (f == "+altgr") m.altgr = 1;
      else if (f == "-altgr") m.altgr = -1;
      else if (f == "caps") m.caps = true;
      else if (f == "+num") m.num = true;
      else return fail("unknown flag " + f);
    }
    out->keys[keysym] = m;
  }
  if (out->name.empty()) {
    *error = "no name line";
    return false;
  }
  return true;
}

bool resolve_keymap_parents(std::vector<Keymap>* maps, std::string* error) {
  std::unordered_map<std::string, size_t> by_name;
  for (size_t i = 0; i < maps->size(); i++) {
    if (!by_name.emplace((*maps)[i].name, i).second) {
      *error = "two keymaps named " + (*maps)[i].name;
      return false;
    }
  }
  std::vector<int> state(maps->size(), 0);  // 0 to do, 1 resolving, 2 done
  std::function<bool(size_t)> resolve = [&](size_t i) {
    Keymap& km = (*maps)[i];
    if (state[i] == 2 || km.parent.empty()) {
      state[i] = 2;
      return true;
    }
    if (state[i] == 1) {
      *error = "keymap " + km.name + ": parent cycle";
      return false;
    }
    auto it = by_name.find(km.parent);
    if (it == by_name.end()) {
      *error = "keymap " + km.name + ": unknown parent " + km.parent;
      return false;
    }
    state[i] = 1;
    if (!resolve(it->second)) return false;
    for (const auto& [keysym, mapping] : (*maps)[it->second].keys) km.keys.emplace(keysym, mapping);
    state[i] = 2;
    return true;
  };
  for (size_t i = 0; i < maps->size(); i++) {
    if (!resolve(i)) return false;
  }
  return true;
}

const Keymap* find_keymap(const std::string& name) {
  for (const auto& km : loaded()) {
    if (km.name == name && !km.internal) return &km;
  }
  return nullptr;
}

std::string known_keymaps() {
  std::string out;
  for (const auto& km : loaded()) {
    if (km.internal) continue;
    if (!out.empty()) out += ", ";
    out += km.name;
  }
  return out;
}

}  // namespace gatehouse::rdp
