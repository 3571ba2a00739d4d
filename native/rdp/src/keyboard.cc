#include "keyboard.h"

#include <vector>

#include "log.h"

namespace gatehouse::rdp {

namespace {

constexpr uint32_t kUnicode = 0x80000000u;
constexpr uint32_t kShiftL = 0xffe1, kShiftR = 0xffe2, kAltGr = 0xfe03, kAltR = 0xffea;
constexpr uint32_t kPause = 0xff13;
constexpr uint32_t kCapsLock = 0xffe5, kNumLock = 0xff7f, kScrollLock = 0xff14;
constexpr uint32_t kScanShiftL = 0x2a, kScanShiftR = 0x36, kScanAltGr = 0x138;

}  // namespace

uint32_t keysym_to_unicode(uint32_t keysym) {
  if ((keysym >= 0x20 && keysym <= 0x7e) || (keysym >= 0xa0 && keysym <= 0xff)) return keysym;
  if (keysym >= 0x01000100 && keysym <= 0x0110ffff) {
    uint32_t cp = keysym - 0x01000000;
    if (cp >= 0xd800 && cp <= 0xdfff) return 0;
    return cp;
  }
  return 0;
}

void Keyboard::scancode(uint32_t code, bool down) {
  if (input_) freerdp_input_send_keyboard_event_ex(input_, down ? TRUE : FALSE, code);
}

void Keyboard::sync_locks(uint32_t flags) {
  locks_.store(flags);
  if (input_) freerdp_input_send_synchronize_event(input_, flags);
}

void Keyboard::key(uint32_t keysym, bool pressed) {
  if (!input_) return;
  if (!pressed) {
    auto it = pressed_.find(keysym);
    if (it == pressed_.end()) return;  // never pressed (or pressed before we knew): nothing to undo
    uint32_t code = it->second;
    pressed_.erase(it);
    if (code & kUnicode) {
      uint32_t cp = code & ~kUnicode;
      if (cp > 0xffff) return;  // surrogate pairs are sent complete on press
      freerdp_input_send_unicode_keyboard_event(input_, KBD_FLAGS_RELEASE, static_cast<UINT16>(cp));
    } else if (code != 0) {
      scancode(code, false);
    }
    return;
  }
  if (pressed_.size() >= kMaxPressed && !held(keysym)) {
    log_debug("too many keys held; key ignored", {kv("keysym", keysym)});
    return;
  }
  if (keysym == kPause) {
    freerdp_input_send_keyboard_pause_event(input_);
    pressed_[keysym] = 0;
    return;
  }
  // A lock key from the client toggles the lock state we reason with (servers that send no keyboard
  // indicators would otherwise leave it stale, and Caps Lock would invert the wrong letters).
  if (!held(keysym)) {
    uint32_t bit = keysym == kCapsLock ? KBD_SYNC_CAPS_LOCK
                   : keysym == kNumLock ? KBD_SYNC_NUM_LOCK
                   : keysym == kScrollLock ? KBD_SYNC_SCROLL_LOCK
                                          : 0;
    if (bit != 0) locks_.fetch_xor(bit);
  }
  const KeyMapping* m = nullptr;
  if (map_) {
    auto it = map_->keys.find(keysym);
    if (it != map_->keys.end()) m = &it->second;
  }
  if (m) {
    uint32_t locks = locks_.load();
    if (m->num && !(locks & KBD_SYNC_NUM_LOCK)) sync_locks(locks | KBD_SYNC_NUM_LOCK);
    // Modifiers this keysym needs that differ from what the client holds: change them around it.
    std::vector<std::pair<uint32_t, bool>> restore;  // scancode, state to restore
    bool shift_held = held(kShiftL) || held(kShiftR);
    if (m->shift != 0) {
      bool want = m->shift > 0;
      if (m->caps && (locks_.load() & KBD_SYNC_CAPS_LOCK)) want = !want;
      if (want && !shift_held) {
        scancode(kScanShiftL, true);
        restore.emplace_back(kScanShiftL, false);
      } else if (!want && shift_held) {
        if (held(kShiftL)) {
          scancode(kScanShiftL, false);
          restore.emplace_back(kScanShiftL, true);
        }
        if (held(kShiftR)) {
          scancode(kScanShiftR, false);
          restore.emplace_back(kScanShiftR, true);
        }
      }
    }
    bool altgr_held = held(kAltGr) || held(kAltR);
    if (m->altgr > 0 && !altgr_held) {
      scancode(kScanAltGr, true);
      restore.emplace_back(kScanAltGr, false);
    } else if (m->altgr < 0 && altgr_held) {
      scancode(kScanAltGr, false);
      restore.emplace_back(kScanAltGr, true);
    }
    scancode(m->scancode, true);
    for (auto r = restore.rbegin(); r != restore.rend(); ++r) scancode(r->first, r->second);
    pressed_[keysym] = m->scancode;
    return;
  }
  uint32_t cp = keysym_to_unicode(keysym);
  if (cp == 0) {
    log_debug("keysym has no scancode or character; ignored", {kv("keysym", keysym)});
    return;
  }
  if (cp > 0xffff) {
    uint32_t v = cp - 0x10000;
    auto hi = static_cast<UINT16>(0xd800 + (v >> 10)), lo = static_cast<UINT16>(0xdc00 + (v & 0x3ff));
    freerdp_input_send_unicode_keyboard_event(input_, 0, hi);
    freerdp_input_send_unicode_keyboard_event(input_, 0, lo);
    freerdp_input_send_unicode_keyboard_event(input_, KBD_FLAGS_RELEASE, hi);
    freerdp_input_send_unicode_keyboard_event(input_, KBD_FLAGS_RELEASE, lo);
  } else {
    freerdp_input_send_unicode_keyboard_event(input_, 0, static_cast<UINT16>(cp));
  }
  pressed_[keysym] = kUnicode | cp;
}

void Keyboard::release_all() {
  std::vector<uint32_t> keys;
  for (const auto& [k, v] : pressed_) keys.push_back(k);
  for (uint32_t k : keys) key(k, false);
}

}  // namespace gatehouse::rdp
