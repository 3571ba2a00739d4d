// Self-test of the keymaps (src/keymap.*): every compiled-in file parses and resolves its parent; the
// selectable layouts inherit the keys that type no character; a few known keys per layout; no two
// Latin-1 characters of a layout on the same key and modifiers (a typo guard); and the parser refuses
// unknown flags, unknown parents, cycles and duplicate names. Run by test/native/rdp-selftests.test.ts.
//   gatehouse-rdp-keymap-selftest   exit 0 when every check passes; failures are printed to stderr.
#include <cstdio>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "selftest_check.h"
#include "keymap.h"
#include "keymaps_generated.h"

using gatehouse::rdp::find_keymap;
using gatehouse::rdp::Keymap;
using gatehouse::rdp::KeyMapping;
using gatehouse::rdp::parse_keymap;
using gatehouse::rdp::resolve_keymap_parents;

using selftest::check;

namespace {

const KeyMapping* key(const Keymap* km, uint32_t keysym) {
  if (!km) return nullptr;
  auto it = km->keys.find(keysym);
  return it == km->keys.end() ? nullptr : &it->second;
}

void expect_key(const char* layout, uint32_t keysym, uint32_t scancode, int shift, int altgr) {
  const KeyMapping* m = key(find_keymap(layout), keysym);
  char what[160];
  snprintf(what, sizeof what, "%s: keysym 0x%04x -> scancode 0x%03x shift %d altgr %d", layout, keysym, scancode,
           shift, altgr);
  check(m && m->scancode == scancode && m->shift == shift && m->altgr == altgr, what);
}

bool resolves(std::vector<std::string> texts, std::string* error) {
  std::vector<Keymap> maps;
  for (const auto& t : texts) {
    Keymap km;
    if (!parse_keymap(t, &km, error)) return false;
    maps.push_back(std::move(km));
  }
  return resolve_keymap_parents(&maps, error);
}

}  // namespace

int main() {
  // Every embedded file parses on its own, and all of them resolve together.
  std::vector<std::string> texts;
  for (const auto& e : gatehouse::rdp::kEmbeddedKeymaps) {
    Keymap km;
    std::string error;
    check(parse_keymap(e.text, &km, &error), std::string(e.file) + ": " + error);
    texts.emplace_back(e.text);
  }
  std::string error;
  check(resolves(texts, &error), "the embedded keymaps resolve: " + error);

  const char* layouts[] = {"en-us-qwerty", "en-gb-qwerty", "de-de-qwertz", "fr-fr-azerty",
                           "es-es-qwerty", "it-it-qwerty", "de-ch-qwertz", "sv-se-qwerty", "failsafe"};
  for (const char* name : layouts) {
    const Keymap* km = find_keymap(name);
    check(km != nullptr, std::string(name) + " is selectable");
    // From base: Delete (extended), F12, Shift_L; every layout has them.
    check(key(km, 0xffff) && key(km, 0xffff)->scancode == 0x153, std::string(name) + ": Delete from base");
    check(key(km, 0xffc9) && key(km, 0xffc9)->scancode == 0x58, std::string(name) + ": F12 from base");
    check(key(km, 0xffe1) && key(km, 0xffe1)->scancode == 0x2a, std::string(name) + ": Shift_L from base");
  }
  check(find_keymap("base") == nullptr, "base is internal");
  check(find_keymap("base-keypad") == nullptr, "base-keypad is internal");
  check(key(find_keymap("failsafe"), 'a') == nullptr, "failsafe has no character keys");
  check(find_keymap("de-de-qwertz") && find_keymap("de-de-qwertz")->layout_id == 0x407, "de-de layout id");
  check(find_keymap("fr-fr-azerty") && find_keymap("fr-fr-azerty")->layout_id == 0x40c, "fr-fr layout id");
  check(find_keymap("en-gb-qwerty") && find_keymap("en-gb-qwerty")->layout_id == 0x809, "en-gb layout id");

  expect_key("en-us-qwerty", 'a', 0x1e, -1, 0);
  expect_key("en-us-qwerty", '@', 0x03, 1, 0);
  expect_key("en-us-qwerty", ' ', 0x39, 0, 0);
  expect_key("en-us-qwerty", 0xffb7, 0x47, 0, 0);  // KP_7 (from base-keypad)
  expect_key("en-gb-qwerty", '@', 0x28, 1, 0);
  expect_key("en-gb-qwerty", 0xa3, 0x04, 1, 0);  // £
  expect_key("en-gb-qwerty", '\\', 0x56, -1, 0);
  expect_key("de-de-qwertz", 'z', 0x15, -1, 0);
  expect_key("de-de-qwertz", 'y', 0x2c, -1, 0);
  expect_key("de-de-qwertz", 0xe4, 0x28, -1, 0);  // ä
  expect_key("de-de-qwertz", '@', 0x10, -1, 1);
  expect_key("de-de-qwertz", 0x10020ac, 0x12, -1, 1);  // € as Guacamole sends it
  expect_key("fr-fr-azerty", 'a', 0x10, -1, 0);
  expect_key("fr-fr-azerty", '1', 0x02, 1, 0);
  expect_key("fr-fr-azerty", 0xe9, 0x03, -1, 0);  // é
  expect_key("fr-fr-azerty", '@', 0x0b, -1, 1);
  expect_key("es-es-qwerty", 0xf1, 0x27, -1, 0);  // ñ
  expect_key("es-es-qwerty", '@', 0x03, -1, 1);
  expect_key("it-it-qwerty", '{', 0x1a, 1, 1);
  expect_key("it-it-qwerty", 0xf2, 0x27, -1, 0);  // ò
  expect_key("de-ch-qwertz", 0xe8, 0x1a, 1, 0);  // è
  expect_key("sv-se-qwerty", 0xe5, 0x1a, -1, 0);  // å

  // No two Latin-1 characters of a layout on the same key with the same modifiers.
  for (const char* name : layouts) {
    const Keymap* km = find_keymap(name);
    if (!km) continue;
    std::map<std::tuple<uint32_t, int, int>, uint32_t> seen;
    for (const auto& [keysym, m] : km->keys) {
      if (keysym < 0x20 || keysym > 0xff || m.shift == 0) continue;
      auto [it, fresh] = seen.emplace(std::make_tuple(m.scancode, static_cast<int>(m.shift),
                                                      static_cast<int>(m.altgr)), keysym);
      char what[160];
      snprintf(what, sizeof what, "%s: 0x%02x and 0x%02x on the same key and modifiers", name, it->second, keysym);
      check(fresh, what);
    }
  }

  // The parser's refusals.
  auto parses = [&](const char* text) {
    Keymap fresh;
    return parse_keymap(text, &fresh, &error);
  };
  check(!parses("name x\n0x61 0x1e +ctrl\n") && error.find("line 2") != std::string::npos,
        "an unknown flag is refused naming its line");
  check(!parses("0x61 0x1e\n"), "a file without a name is refused");
  check(!parses("name x\ninternal yes\n"), "internal takes no value");
  check(!parses("name x\n0x61 0x1ff\n"), "a scancode that is neither 0xNN nor 0xE0NN is refused");
  check(!resolves({"name a\nparent nowhere\n"}, &error) && error.find("unknown parent") != std::string::npos,
        "an unknown parent is refused");
  check(!resolves({"name a\nparent b\n", "name b\nparent a\n"}, &error) &&
            error.find("cycle") != std::string::npos,
        "a parent cycle is refused");
  check(!resolves({"name a\n", "name a\n"}, &error), "two keymaps with one name are refused");
  // A child's entry wins over its parent's; the parent's other entries are inherited.
  std::vector<Keymap> maps(2);
  check(parse_keymap("name p\ninternal\n0x61 0x1e\n0x62 0x30\n", &maps[0], &error) &&
            parse_keymap("name c\nparent p\n0x61 0x10\n", &maps[1], &error) && resolve_keymap_parents(&maps, &error),
        "a parent and a child resolve");
  check(maps[1].keys.size() == 2 && maps[1].keys['a'].scancode == 0x10 && maps[1].keys['b'].scancode == 0x30,
        "the child's entry overrides, the parent's others are inherited");

  return selftest::result();
}
