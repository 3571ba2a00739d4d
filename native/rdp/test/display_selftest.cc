// Self-test of the Display pipeline without a server: a fake FreeRDP context whose framebuffer the test
// paints, then checks the instructions a flush produces (size, rect+cfill, copy, img, sync) and that the
// shadow (what the client shows) equals the framebuffer. Run by test/native/rdp-selftests.test.ts.
//   gatehouse-rdp-selftest   exit 0 when every check passes; failures are printed to stderr.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <freerdp/freerdp.h>
#include <freerdp/gdi/gdi.h>

#include "selftest_check.h"
#include "display.h"
#include "guac_io.h"
#include "stream_ids.h"

using namespace gatehouse::rdp;

using selftest::check;

namespace {

struct Fake {
  rdpContext context{};
  rdpUpdate update{};
  rdpGdi gdi{};
  std::vector<uint8_t> fb;
  Fake(int w, int h) : fb(static_cast<size_t>(w * h * 4), 0) {
    InitializeCriticalSection(&update.mux);
    context.update = &update;
    context.gdi = &gdi;
    gdi.width = static_cast<UINT32>(w);
    gdi.height = static_cast<UINT32>(h);
    gdi.stride = static_cast<UINT32>(w * 4);
    gdi.primary_buffer = fb.data();
  }
  ~Fake() { DeleteCriticalSection(&update.mux); }
  uint8_t* px(int x, int y) { return &fb[static_cast<size_t>((y * static_cast<int>(gdi.width) + x) * 4)]; }
  void fill(int x, int y, int w, int h, uint8_t r, uint8_t g, uint8_t b) {
    for (int yy = y; yy < y + h; yy++) {
      for (int xx = x; xx < x + w; xx++) {
        uint8_t* p = px(xx, yy);
        p[0] = b, p[1] = g, p[2] = r, p[3] = 0xff;
      }
    }
  }
  // Text-like noise that PNG compresses but is not uniform.
  void pattern(int x, int y, int w, int h, int seed) {
    for (int yy = y; yy < y + h; yy++) {
      for (int xx = x; xx < x + w; xx++) {
        uint8_t v = static_cast<uint8_t>(((xx * 7 + yy * 13 + seed) % 5) * 60);
        uint8_t* p = px(xx, yy);
        p[0] = v, p[1] = static_cast<uint8_t>(255 - v), p[2] = static_cast<uint8_t>(seed), p[3] = 0xff;
      }
    }
  }
};

// Instructions written to a pipe by the Display, decoded.
std::vector<Instruction> drain(int fd) {
  std::vector<Instruction> out;
  GuacReader reader;
  uint8_t buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    if (!reader.feed(buf, static_cast<size_t>(n), &out)) {
      check(false, "output parses: " + reader.error());
      break;
    }
  }
  return out;
}

int count(const std::vector<Instruction>& v, const char* op) {
  int n = 0;
  for (const auto& i : v) n += i.opcode == op;
  return n;
}

long image_area(const std::vector<Instruction>& v) {
  // img positions only; areas come from the blocks' sizes, which we do not decode: count cells instead.
  long n = 0;
  for (const auto& i : v) n += i.opcode == "img";
  return n;
}

bool shadow_equals_fb(const Display& d, const Fake& f) {
  const auto& s = d.shadow();
  if (s.size() != f.fb.size()) return false;
  for (size_t i = 0; i < s.size(); i += 4) {
    if (std::memcmp(&s[i], &f.fb[i], 3) != 0) return false;
  }
  return true;
}

}  // namespace

int main() {
  selftest::verbose = true;
  int fds[2];
  if (pipe(fds) != 0) return 2;
  GuacWriter out(fds[1]);
  StreamIds streams;
  DisplayOptions options;
  Display display(&out, &streams, options);
  const int W = 256, H = 192;
  Fake fake(W, H);
  fcntl(fds[0], F_SETFL, O_NONBLOCK);
  fcntl(fds[1], F_SETPIPE_SZ, 1 << 20);  // frames are read after each flush: room for a whole one

  // 1. First frame: size + one uniform colour as rect+cfill, then sync.
  fake.fill(0, 0, W, H, 0x33, 0x66, 0x99);
  display.desktop_resized(W, H);
  check(display.flush(&fake.context, 1000, true), "first flush sends a frame");
  out.flush();
  auto v = drain(fds[0]);
  check(!v.empty() && v[0].opcode == "size" && v[0].args == std::vector<std::string>{"0", "256", "192"},
        "first instruction is size,0,256,192");
  check(count(v, "img") == 0 && count(v, "rect") > 0 && count(v, "cfill") == count(v, "rect"),
        "a uniform screen is rect+cfill only");
  check(v.back().opcode == "sync", "the frame ends with sync");
  bool blue = true;
  for (const auto& i : v) {
    if (i.opcode == "cfill") blue = blue && i.args[2] == "51" && i.args[3] == "102" && i.args[4] == "153";
  }
  check(blue, "cfill carries #336699");
  check(shadow_equals_fb(display, fake), "shadow equals the framebuffer after frame 1");

  // 2. Nothing changed: an invalidation alone sends nothing.
  display.invalidate(0, 0, W, H);
  check(!display.flush(&fake.context, 2000, true), "an unchanged repaint sends no frame");
  out.flush();
  v = drain(fds[0]);
  check(v.empty(), "no instructions for an unchanged repaint");

  // 3. Text-like content in the middle: images (PNG), nothing else.
  fake.pattern(32, 32, 192, 128, 1);
  display.invalidate(32, 32, 192, 128);
  check(display.flush(&fake.context, 3000, true), "content change sends a frame");
  out.flush();
  v = drain(fds[0]);
  bool png = true;
  for (const auto& i : v) {
    if (i.opcode == "img") png = png && i.args[3] == "image/png" && i.args[2] == "0";
  }
  check(count(v, "img") > 0 && png, "changed content arrives as PNG images on layer 0");
  check(shadow_equals_fb(display, fake), "shadow equals the framebuffer after frame 3");

  // 4. Scroll the content up by 32 px (as a ScrBlt would), new line at the bottom: one copy, and only
  //    the exposed strip is sent as images.
  for (int y = 32; y < 32 + 96; y++) std::memmove(fake.px(32, y), fake.px(32, y + 32), 192 * 4);
  fake.pattern(32, 128, 192, 32, 7);
  display.copy_hint(32, 64, 192, 96, 32, 32);
  display.invalidate(32, 32, 192, 128);
  check(display.flush(&fake.context, 4000, true), "scroll sends a frame");
  out.flush();
  v = drain(fds[0]);
  check(count(v, "copy") == 1, "the scroll is one copy instruction");
  if (count(v, "copy") == 1) {
    const Instruction* c = nullptr;
    for (const auto& i : v) {
      if (i.opcode == "copy") c = &i;
    }
    check(c->args == std::vector<std::string>{"0", "32", "64", "192", "96", "14", "0", "32", "32"},
          "copy,0,32,64,192,96,14,0,32,32");
  }
  bool below = true;
  for (const auto& i : v) {
    if (i.opcode == "img") below = below && std::stoi(i.args[5]) >= 128;
  }
  check(count(v, "img") > 0 && below, "only the exposed strip (y >= 128) is sent as images");
  check(shadow_equals_fb(display, fake), "shadow equals the framebuffer after the scroll");

  // 5. A wrong hint (the server's copy was clipped): correctness is restored by the compare.
  fake.pattern(0, 0, 64, 64, 9);
  display.copy_hint(100, 100, 64, 64, 0, 0);  // claims the top-left came from elsewhere: it did not
  display.invalidate(0, 0, 64, 64);
  check(display.flush(&fake.context, 5000, true), "wrong hint sends a frame");
  out.flush();
  v = drain(fds[0]);
  check(count(v, "copy") == 1 && count(v, "img") >= 1, "a wrong hint is followed by the real pixels");
  check(shadow_equals_fb(display, fake), "shadow equals the framebuffer after a wrong hint");

  // 6. Server resize: size + full frame.
  Fake big(320, 200);
  big.fill(0, 0, 320, 200, 0, 0, 0);
  display.desktop_resized(320, 200);
  check(display.flush(&big.context, 6000, true), "resize sends a frame");
  out.flush();
  v = drain(fds[0]);
  check(!v.empty() && v[0].opcode == "size" && v[0].args[1] == "320" && v[0].args[2] == "200",
        "resize starts with size,0,320,200");
  check(shadow_equals_fb(display, big), "shadow equals the framebuffer after the resize");
  (void)image_area;

  // 7. Photo-like content updated often: lossy (WebP if accepted, else JPEG), unless force-lossless.
  struct Case {
    bool webp, jpeg, lossless;
    const char* expect;
  } cases[] = {{true, true, false, "image/webp"},
               {false, true, false, "image/jpeg"},
               {true, true, true, "image/png"},
               {false, false, false, "image/png"}};
  for (const Case& c : cases) {
    DisplayOptions o;
    o.webp = c.webp;
    o.jpeg = c.jpeg;
    o.force_lossless = c.lossless;
    Display d(&out, &streams, o);
    Fake f(256, 256);
    d.desktop_resized(256, 256);
    d.flush(&f.context, 10000, true);
    out.flush();
    drain(fds[0]);
    uint32_t seed = 12345;
    std::string last;
    for (int frame = 0; frame < 6; frame++) {
      for (int y = 0; y < 128; y++) {
        for (int x = 0; x < 128; x++) {
          seed = seed * 1103515245u + 12345u;
          uint8_t* p = f.px(x, y);
          p[0] = static_cast<uint8_t>(seed >> 24), p[1] = static_cast<uint8_t>(seed >> 16);
          p[2] = static_cast<uint8_t>(seed >> 8), p[3] = 0xff;
        }
      }
      d.invalidate(0, 0, 128, 128);
      d.flush(&f.context, 10100 + frame * 100, true);  // 10 frames/s
      out.flush();
      for (const auto& i : drain(fds[0])) {
        if (i.opcode == "img") last = i.args[3];
      }
    }
    check(last == c.expect, std::string("busy photo-like region -> ") + c.expect + " (got " + last + ")");
  }

  close(fds[0]);
  close(fds[1]);
  return selftest::result();
}
