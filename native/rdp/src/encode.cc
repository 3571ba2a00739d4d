#include "encode.h"

#include <csetjmp>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <jpeglib.h>
#include <png.h>
#include <webp/encode.h>

namespace gatehouse::rdp {

namespace {

inline uint32_t px32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// ---- PNG -----------------------------------------------------------------------------------------

struct PngSink {
  std::vector<uint8_t>* out;
};

void png_write(png_structp png, png_bytep data, png_size_t len) {
  auto* sink = static_cast<PngSink*>(png_get_io_ptr(png));
  sink->out->insert(sink->out->end(), data, data + len);
}
void png_flush_noop(png_structp) {}

// Counts colours (alpha ignored) up to 256; fills palette (0x00RRGGBB in BGRX byte order as read)
// and returns the count, or 257 when there are more.
int count_colors(const PixelView& px, uint32_t palette[256]) {
  constexpr int kSlots = 1024;
  uint32_t keys[kSlots];
  int16_t idx[kSlots];
  std::memset(idx, -1, sizeof idx);
  int n = 0;
  uint32_t last = 0;
  bool have_last = false;
  for (int y = 0; y < px.height; y++) {
    const uint8_t* row = px.data + static_cast<size_t>(y) * static_cast<size_t>(px.stride);
    for (int x = 0; x < px.width; x++) {
      uint32_t c = px32(row + 4 * x) & 0x00FFFFFFu;
      if (have_last && c == last) continue;
      last = c;
      have_last = true;
      uint32_t h = (c * 2654435761u) >> 22;  // 10 bits
      for (;;) {
        if (idx[h] < 0) {
          if (n == 256) return 257;
          keys[h] = c;
          idx[h] = static_cast<int16_t>(n);
          palette[n++] = c;
          break;
        }
        if (keys[h] == c) break;
        h = (h + 1) & (kSlots - 1);
      }
    }
  }
  return n;
}

int palette_index(const uint32_t* keys, const int16_t* idx, uint32_t c) {
  uint32_t h = (c * 2654435761u) >> 22;
  while (idx[h] < 0 || keys[h] != c) h = (h + 1) & 1023;
  return idx[h];
}

// All libpng calls live here: no C++ objects with destructors in this frame (longjmp on error).
bool png_encode_raw(const PixelView& px, bool alpha, int ncolors, const uint32_t* palette,
                    const uint8_t* indexed, int bit_depth, std::vector<uint8_t>* out) {
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  if (!png) return false;
  png_infop info = png_create_info_struct(png);
  if (!info) {
    png_destroy_write_struct(&png, nullptr);
    return false;
  }
  PngSink sink{out};
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    return false;
  }
  png_set_write_fn(png, &sink, png_write, png_flush_noop);
  auto w = static_cast<png_uint_32>(px.width), h = static_cast<png_uint_32>(px.height);
  if (indexed) {
    png_color pal[256];
    for (int i = 0; i < ncolors; i++) {
      pal[i].blue = static_cast<png_byte>(palette[i] & 0xFF);
      pal[i].green = static_cast<png_byte>((palette[i] >> 8) & 0xFF);
      pal[i].red = static_cast<png_byte>((palette[i] >> 16) & 0xFF);
    }
    png_set_IHDR(png, info, w, h, bit_depth, PNG_COLOR_TYPE_PALETTE, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_set_PLTE(png, info, pal, ncolors);
    png_set_compression_level(png, 6);
    png_set_filter(png, 0, PNG_FILTER_NONE);
    png_write_info(png, info);
    size_t row_bytes = (static_cast<size_t>(px.width) * static_cast<size_t>(bit_depth) + 7) / 8;
    for (int y = 0; y < px.height; y++) {
      png_write_row(png, const_cast<png_bytep>(indexed + static_cast<size_t>(y) * row_bytes));
    }
  } else {
    png_set_IHDR(png, info, w, h, 8, alpha ? PNG_COLOR_TYPE_RGB_ALPHA : PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_set_compression_level(png, 3);
    png_set_filter(png, 0, PNG_FILTER_SUB | PNG_FILTER_UP);
    png_write_info(png, info);
    png_set_bgr(png);
    if (!alpha) png_set_filler(png, 0, PNG_FILLER_AFTER);  // drop the X byte
    for (int y = 0; y < px.height; y++) {
      png_write_row(png, const_cast<png_bytep>(px.data + static_cast<size_t>(y) *
                                                             static_cast<size_t>(px.stride)));
    }
  }
  png_write_end(png, info);
  png_destroy_write_struct(&png, &info);
  return true;
}

// ---- JPEG ----------------------------------------------------------------------------------------

struct JpegError {
  jpeg_error_mgr mgr;
  jmp_buf jump;
};

void jpeg_error_exit(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<JpegError*>(cinfo->err);
  longjmp(err->jump, 1);
}
void jpeg_no_message(j_common_ptr) {}

bool jpeg_encode_raw(const PixelView& px, int quality, unsigned char** buf, unsigned long* len) {
  jpeg_compress_struct cinfo;
  JpegError err;
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = jpeg_error_exit;
  err.mgr.output_message = jpeg_no_message;
  if (setjmp(err.jump)) {
    jpeg_destroy_compress(&cinfo);
    return false;
  }
  jpeg_create_compress(&cinfo);
  jpeg_mem_dest(&cinfo, buf, len);
  cinfo.image_width = static_cast<JDIMENSION>(px.width);
  cinfo.image_height = static_cast<JDIMENSION>(px.height);
  cinfo.input_components = 4;
  cinfo.in_color_space = JCS_EXT_BGRX;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, quality, TRUE);
  cinfo.dct_method = JDCT_ISLOW;
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = const_cast<JSAMPROW>(px.data + static_cast<size_t>(cinfo.next_scanline) *
                                                      static_cast<size_t>(px.stride));
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  return true;
}

}  // namespace

bool encode_png(const PixelView& px, bool alpha, std::vector<uint8_t>* out) {
  out->clear();
  if (px.width <= 0 || px.height <= 0) return false;
  if (!alpha) {
    uint32_t palette[256];
    int n = count_colors(px, palette);
    if (n <= 256) {
      int depth = n <= 2 ? 1 : n <= 4 ? 2 : n <= 16 ? 4 : 8;
      uint32_t keys[1024];
      int16_t idx[1024];
      std::memset(idx, -1, sizeof idx);
      for (int i = 0; i < n; i++) {
        uint32_t h = (palette[i] * 2654435761u) >> 22;
        while (idx[h] >= 0) h = (h + 1) & 1023;
        keys[h] = palette[i];
        idx[h] = static_cast<int16_t>(i);
      }
      size_t row_bytes = (static_cast<size_t>(px.width) * static_cast<size_t>(depth) + 7) / 8;
      std::vector<uint8_t> indexed(row_bytes * static_cast<size_t>(px.height), 0);
      int per_byte = 8 / depth;
      for (int y = 0; y < px.height; y++) {
        const uint8_t* row = px.data + static_cast<size_t>(y) * static_cast<size_t>(px.stride);
        uint8_t* o = indexed.data() + static_cast<size_t>(y) * row_bytes;
        uint32_t last = 0xFFFFFFFFu;
        int last_i = 0;
        for (int x = 0; x < px.width; x++) {
          uint32_t c = px32(row + 4 * x) & 0x00FFFFFFu;
          if (c != last) {
            last = c;
            last_i = palette_index(keys, idx, c);
          }
          int shift = 8 - depth * (x % per_byte + 1);
          o[x / per_byte] = static_cast<uint8_t>(o[x / per_byte] | (last_i << shift));
        }
      }
      return png_encode_raw(px, false, n, palette, indexed.data(), depth, out);
    }
  }
  out->reserve(static_cast<size_t>(px.width) * static_cast<size_t>(px.height));
  return png_encode_raw(px, alpha, 0, nullptr, nullptr, 8, out);
}

bool encode_jpeg(const PixelView& px, int quality, std::vector<uint8_t>* out) {
  out->clear();
  if (px.width <= 0 || px.height <= 0) return false;
  unsigned char* buf = nullptr;
  unsigned long len = 0;
  bool ok = jpeg_encode_raw(px, quality, &buf, &len);
  if (ok && buf) out->assign(buf, buf + len);
  free(buf);
  return ok && !out->empty();
}

bool encode_webp(const PixelView& px, int quality, std::vector<uint8_t>* out) {
  out->clear();
  if (px.width <= 0 || px.height <= 0) return false;
  WebPConfig config;
  if (!WebPConfigInit(&config)) return false;
  config.quality = static_cast<float>(quality);
  config.method = 2;
  WebPPicture pic;
  if (!WebPPictureInit(&pic)) return false;
  pic.width = px.width;
  pic.height = px.height;
  pic.use_argb = 1;
  if (!WebPPictureImportBGRX(&pic, px.data, px.stride)) {
    WebPPictureFree(&pic);
    return false;
  }
  WebPMemoryWriter writer;
  WebPMemoryWriterInit(&writer);
  pic.writer = WebPMemoryWrite;
  pic.custom_ptr = &writer;
  bool ok = WebPEncode(&config, &pic) != 0;
  if (ok) out->assign(writer.mem, writer.mem + writer.size);
  WebPMemoryWriterClear(&writer);
  WebPPictureFree(&pic);
  return ok && !out->empty();
}

bool is_png_unfriendly(const PixelView& px) {
  if (px.width < 2 || px.height < 1) return false;
  constexpr int kSampleRows = 16;
  constexpr int kFewColors = 16;
  uint32_t seen[kFewColors];
  int distinct = 0;  // kFewColors + 1 once there are more
  long same = 0, different = 1;
  int rows = px.height < kSampleRows ? px.height : kSampleRows;
  auto note = [&](uint32_t c) {
    if (distinct > kFewColors) return;
    for (int i = 0; i < distinct; i++) {
      if (seen[i] == c) return;
    }
    if (distinct == kFewColors) {
      distinct++;
      return;
    }
    seen[distinct++] = c;
  };
  for (int k = 0; k < rows; k++) {
    int y = static_cast<int>((static_cast<long>(2 * k + 1) * px.height) / (2 * rows));
    const uint8_t* row = px.data + static_cast<size_t>(y) * static_cast<size_t>(px.stride);
    uint32_t last = px32(row) & 0x00FFFFFFu;
    note(last);
    for (int x = 1; x < px.width; x++) {
      uint32_t c = px32(row + 4 * x) & 0x00FFFFFFu;
      if (c == last) {
        same++;
        continue;
      }
      different++;
      last = c;
      note(c);
    }
  }
  if (distinct <= kFewColors) return false;
  return same < 4 * different;
}

bool uniform_color(const PixelView& px, uint32_t* rgb) {
  if (px.width <= 0 || px.height <= 0) return false;
  uint32_t first = px32(px.data) & 0x00FFFFFFu;
  for (int y = 0; y < px.height; y++) {
    const uint8_t* row = px.data + static_cast<size_t>(y) * static_cast<size_t>(px.stride);
    for (int x = 0; x < px.width; x++) {
      if ((px32(row + 4 * x) & 0x00FFFFFFu) != first) return false;
    }
  }
  *rgb = first;  // BGRX bytes read little-endian: 0x00RRGGBB
  return true;
}

}  // namespace gatehouse::rdp
