/* Shared by the decoders and encoders of CImageCodecs (not part of the module's interface). */
#ifndef DEEPCLUSTER_CODECS_INTERNAL_H
#define DEEPCLUSTER_CODECS_INTERNAL_H
#include "image_codecs.h"
#include <stdio.h>
#include <stdint.h>

/* 8192 × 8192: a few hundred bytes of header may claim 65535 × 65535 × 3 (12.8 GB); the trainer
   resizes every image to its input anyway, so larger ones are refused before anything is allocated. */
#define DC_MAX_PIXELS ((uint64_t)1 << 26)
/* What libjpeg may allocate for one decode (its max_memory_to_use; there is no backing store, so a
   progressive image whose coefficient buffers would pass it fails instead): 256 MiB, enough for the
   coefficients of a 64-megapixel progressive 4:4:4 colour JPEG at full size (2 bytes each, 3 components). */
#define DC_JPEG_MEMORY_LIMIT (256L << 20)

int dc_fail(char *err, size_t n, const char *msg);
int dc_size_refused(uint64_t width, uint64_t height);

int dc_decode_png(const uint8_t *data, size_t size, int header_only, dc_image_info *info, uint8_t **pixels,
                  char *err, size_t n);
int dc_decode_jpeg(const uint8_t *data, size_t size, int header_only, int min_side, dc_image_info *info,
                   uint8_t **pixels, char *err, size_t n);
/* The byte just past the JPEG's header (where its first scan's data starts), for the tail check. */
#endif
