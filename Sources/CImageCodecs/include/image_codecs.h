// PNG (libpng) and JPEG (libjpeg-turbo) decoding and encoding from memory, for the Datasets target.
// libjpeg and libpng report errors by longjmp, which Swift cannot catch: the setjmp lives here, in C,
// and every failure comes back as a non-zero return with a message in `err`.
#ifndef DEEPCLUSTER_IMAGE_CODECS_H
#define DEEPCLUSTER_IMAGE_CODECS_H
#include <stddef.h>
#include <stdint.h>

/// What a header says: the stored size, the channels handed out (1 grey, 3 colour), and for a JPEG
/// the size it is decoded at (DCT scaling) and where its entropy-coded data starts.
typedef struct {
    int width, height, channels;
    int decoded_width, decoded_height;
    /// 1 for PNG, 2 for JPEG.
    int format;
    /// JPEG: the offset of the first scan's data; 0 elsewhere.
    size_t scan_offset;
} dc_image_info;

/// Decodes a PNG or JPEG held in memory into interleaved 8-bit pixels (H×W×C, C = 1 for grey images,
/// 3 otherwise). Conversions follow PIL's `convert("RGB")` in torchvision's loader: alpha and palette
/// transparency are dropped, palettes expanded, 16-bit samples keep their high byte, CMYK and YCCK
/// JPEGs become RGB (Adobe's inverted polarity when the Adobe marker says so). `min_side` > 0 lets a
/// JPEG decode at 1/2, 1/4 or 1/8 scale (libjpeg's DCT scaling, PIL's `draft`) while its shorter side
/// stays at least `min_side`. The size is checked from the header, before anything is allocated; a
/// decode allocates at most the output and libjpeg's DC_JPEG_MEMORY_LIMIT. On success returns 0 and sets
/// *pixels (free it with dc_free) and *info. On failure returns non-zero and writes a message to err.
/// A truncated or corrupt stream is a failure, not a warning.
int dc_decode_image(const uint8_t *data, size_t size, int min_side, uint8_t **pixels, dc_image_info *info,
                    char *err, size_t err_size);

/// Reads only the header (`data` may be the file's first bytes): format, size and channels, with the
/// same refusals as dc_decode_image. Returns 0, non-zero with a message, or 2 when the header runs past
/// the bytes given (read more of the file and ask again).
int dc_probe_image(const uint8_t *data, size_t size, dc_image_info *info, char *err, size_t err_size);

/// Encodes interleaved 8-bit pixels (C = 1 or 3) as PNG or JPEG (quality 1–100) into a malloc'd
/// buffer (free it with dc_free).
int dc_encode_png(const uint8_t *pixels, int width, int height, int channels, uint8_t **out, size_t *out_size,
                  char *err, size_t err_size);
int dc_encode_jpeg(const uint8_t *pixels, int width, int height, int channels, int quality, uint8_t **out,
                   size_t *out_size, char *err, size_t err_size);

void dc_free(void *p);
#endif
