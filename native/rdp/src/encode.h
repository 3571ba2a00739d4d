// Image encoders for display updates: PNG (libpng; palettized when <= 256 colours), JPEG
// (libjpeg-turbo) and WebP (libwebp), plus the cheap pixel tests guacd's format rules need.
// Pixels are 32-bit BGRX/BGRA in memory order (FreeRDP's PIXEL_FORMAT_BGRX32 / BGRA32).
#ifndef GATEHOUSE_RDP_ENCODE_H_
#define GATEHOUSE_RDP_ENCODE_H_

#include <cstdint>
#include <vector>

namespace gatehouse::rdp {

struct PixelView {
  const uint8_t* data;  // first pixel of the region
  int stride;           // bytes per row
  int width;
  int height;
};

// PNG. `alpha`: keep the 4th byte as alpha (cursors); otherwise opaque RGB or an indexed palette.
bool encode_png(const PixelView& px, bool alpha, std::vector<uint8_t>* out);
// JPEG at quality 1..100 (opaque).
bool encode_jpeg(const PixelView& px, int quality, std::vector<uint8_t>* out);
// Lossy WebP at quality 1..100 (method 2, as guacd).
bool encode_webp(const PixelView& px, int quality, std::vector<uint8_t>* out);

// Photo-like content that PNG compresses badly (sampled rows: many colours and few runs).
bool is_png_unfriendly(const PixelView& px);
// True when every pixel has the same colour (alpha byte ignored); *bgr = 0x00RRGGBB.
bool uniform_color(const PixelView& px, uint32_t* rgb);

}  // namespace gatehouse::rdp

#endif  // GATEHOUSE_RDP_ENCODE_H_
