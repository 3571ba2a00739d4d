#include "cursor.h"

#include <cstring>
#include <memory>
#include <vector>

#include <freerdp/codec/color.h>
#include <freerdp/gdi/gdi.h>
#include <freerdp/graphics.h>

#include "encode.h"
#include "log.h"
#include "session.h"

namespace gatehouse::rdp {

namespace {

constexpr int kCursorLayer = -1;
constexpr UINT32 kMaxCursor = 384;  // RDP large pointers are at most 384x384

struct GhPointer {
  rdpPointer pointer;
  uint8_t* bgra;  // width*height*4, premultiplied-free BGRA
};

struct CursorImage {
  int width, height, hot_x, hot_y;
  std::vector<uint8_t> bgra;
};

void send_cursor(Session* session, const CursorImage& c) {
  std::vector<uint8_t> png;
  PixelView px{c.bgra.data(), c.width * 4, c.width, c.height};
  if (!encode_png(px, true, &png)) {
    log_warn("cursor encoding failed");
    return;
  }
  int stream = session->alloc_stream();
  if (stream < 0) return;
  session->send({"size", std::to_string(kCursorLayer), std::to_string(c.width), std::to_string(c.height)});
  session->send({"img", std::to_string(stream), "12", std::to_string(kCursorLayer), "image/png", "0", "0"});
  session->send_blobs(stream, png.data(), png.size());
  session->send({"end", std::to_string(stream)});
  session->free_stream(stream);
  session->send({"cursor", std::to_string(c.hot_x), std::to_string(c.hot_y), std::to_string(kCursorLayer),
                 "0", "0", std::to_string(c.width), std::to_string(c.height)});
}

void post_cursor(rdpContext* context, CursorImage image) {
  Session* session = session_of(context);
  if (!session) return;
  auto shared = std::make_shared<CursorImage>(std::move(image));
  session->run_on_main([session, shared] { send_cursor(session, *shared); });
}

// The classic arrow for SetDefault: '#' black, '.' white.
const char* const kArrow[] = {
    "#          ", "##         ", "#.#        ", "#..#       ", "#...#      ", "#....#     ",
    "#.....#    ", "#......#   ", "#.......#  ", "#........# ", "#.....#####", "#..#..#    ",
    "#.# #..#   ", "##  #..#   ", "#    #..#  ", "     #..#  ", "      ##   ",
};

CursorImage default_arrow() {
  CursorImage c{11, 17, 0, 0, {}};
  c.bgra.assign(static_cast<size_t>(c.width * c.height * 4), 0);
  for (int y = 0; y < c.height; y++) {
    for (int x = 0; x < c.width; x++) {
      char ch = kArrow[y][x];
      if (ch == ' ') continue;
      uint8_t v = ch == '.' ? 255 : 0;
      uint8_t* p = &c.bgra[static_cast<size_t>((y * c.width + x) * 4)];
      p[0] = p[1] = p[2] = v;
      p[3] = 255;
    }
  }
  return c;
}

BOOL pointer_new(rdpContext* context, rdpPointer* pointer) {
  auto* p = reinterpret_cast<GhPointer*>(pointer);
  p->bgra = nullptr;
  if (pointer->width == 0 || pointer->height == 0 || pointer->width > kMaxCursor ||
      pointer->height > kMaxCursor) {
    return TRUE;  // nothing to show; Set will hide the cursor
  }
  size_t size = static_cast<size_t>(pointer->width) * pointer->height * 4;
  p->bgra = static_cast<uint8_t*>(calloc(1, size));
  if (!p->bgra) return FALSE;
  const gdiPalette* palette = context->gdi ? &context->gdi->palette : nullptr;
  if (!freerdp_image_copy_from_pointer_data(p->bgra, PIXEL_FORMAT_BGRA32, pointer->width * 4, 0, 0,
                                            pointer->width, pointer->height, pointer->xorMaskData,
                                            pointer->lengthXorMask, pointer->andMaskData,
                                            pointer->lengthAndMask, pointer->xorBpp, palette)) {
    free(p->bgra);
    p->bgra = nullptr;
  }
  return TRUE;
}

void pointer_free(rdpContext*, rdpPointer* pointer) {
  auto* p = reinterpret_cast<GhPointer*>(pointer);
  free(p->bgra);
  p->bgra = nullptr;
}

BOOL pointer_set_null(rdpContext* context) {
  CursorImage blank{1, 1, 0, 0, std::vector<uint8_t>(4, 0)};
  post_cursor(context, std::move(blank));
  return TRUE;
}

BOOL pointer_set(rdpContext* context, const rdpPointer* pointer) {
  const auto* p = reinterpret_cast<const GhPointer*>(pointer);
  if (!p->bgra) return pointer_set_null(context);
  CursorImage c;
  c.width = static_cast<int>(pointer->width);
  c.height = static_cast<int>(pointer->height);
  c.hot_x = static_cast<int>(pointer->xPos < pointer->width ? pointer->xPos : 0);
  c.hot_y = static_cast<int>(pointer->yPos < pointer->height ? pointer->yPos : 0);
  c.bgra.assign(p->bgra, p->bgra + static_cast<size_t>(c.width) * static_cast<size_t>(c.height) * 4);
  post_cursor(context, std::move(c));
  return TRUE;
}

BOOL pointer_set_default(rdpContext* context) {
  post_cursor(context, default_arrow());
  return TRUE;
}

BOOL pointer_set_position(rdpContext*, UINT32, UINT32) { return TRUE; }

}  // namespace

bool register_pointer(rdpContext* context) {
  rdpPointer pointer;
  std::memset(&pointer, 0, sizeof pointer);
  pointer.size = sizeof(GhPointer);
  pointer.New = pointer_new;
  pointer.Free = pointer_free;
  pointer.Set = pointer_set;
  pointer.SetNull = pointer_set_null;
  pointer.SetDefault = pointer_set_default;
  pointer.SetPosition = pointer_set_position;
  graphics_register_pointer(context->graphics, &pointer);
  return true;
}

}  // namespace gatehouse::rdp
