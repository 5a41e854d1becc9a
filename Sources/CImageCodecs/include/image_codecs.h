// PNG (libpng) and JPEG (libjpeg-turbo) decoding and encoding from memory, for the Datasets target.
// libjpeg reports errors by longjmp, which Swift cannot catch: the setjmp lives here, in C, and every
// failure comes back as a non-zero return with a message in `err`.
#ifndef DEEPCLUSTER_IMAGE_CODECS_H
#define DEEPCLUSTER_IMAGE_CODECS_H
#include <stddef.h>
#include <stdint.h>

/// Decodes a PNG or JPEG held in memory into interleaved 8-bit pixels (H×W×C, C = 1 for grey images,
/// 3 otherwise; an alpha channel is dropped, as PIL's convert("RGB") does). On success returns 0 and sets *pixels (free it with
/// dc_free), *width, *height and *channels. On failure returns non-zero and writes a message to err.
/// A truncated or corrupt stream is a failure, not a warning.
int dc_decode_image(const uint8_t *data, size_t size, uint8_t **pixels, int *width, int *height,
                    int *channels, char *err, size_t err_size);

/// Encodes interleaved 8-bit pixels (C = 1 or 3) as PNG or JPEG (quality 1–100) into a malloc'd
/// buffer (free it with dc_free).
int dc_encode_png(const uint8_t *pixels, int width, int height, int channels, uint8_t **out, size_t *out_size,
                  char *err, size_t err_size);
int dc_encode_jpeg(const uint8_t *pixels, int width, int height, int channels, int quality, uint8_t **out,
                   size_t *out_size, char *err, size_t err_size);

void dc_free(void *p);
#endif
