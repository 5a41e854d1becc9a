/* PNG through libpng's progressive-free reader: every colour type and bit depth, interlaced or not. */
#include "codecs_internal.h"
#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

struct png_source {
    const uint8_t *data;
    size_t size, position;
    int ran_out;
    char message[256];
};

static void png_read_memory(png_structp png, png_bytep out, size_t length) {
    struct png_source *s = png_get_io_ptr(png);
    if (length > s->size - s->position) {
        s->ran_out = 1;
        png_error(png, "truncated PNG (the file ends inside a chunk)");
    }
    memcpy(out, s->data + s->position, length);
    s->position += length;
}

static void png_failed(png_structp png, png_const_charp message) {
    struct png_source *s = png_get_error_ptr(png);
    snprintf(s->message, sizeof s->message, "%s", message);
    png_longjmp(png, 1);
}

/* Warnings (a bad CRC in an ancillary chunk, an unknown chunk) do not change the pixels PIL reads. */
static void png_warned(png_structp png, png_const_charp message) { (void)png; (void)message; }

int dc_decode_png(const uint8_t *data, size_t size, int header_only, dc_image_info *info, uint8_t **pixels,
                  char *err, size_t n) {
    struct png_source source = {data, size, 0, 0, {0}};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &source, png_failed, png_warned);
    if (!png) return dc_fail(err, n, "out of memory");
    png_infop pinfo = png_create_info_struct(png);
    uint8_t *volatile out = NULL;
    png_bytep *volatile rows = NULL;
    if (!pinfo || setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, pinfo ? &pinfo : NULL, NULL);
        free(out);
        free(rows);
        if (header_only && source.ran_out) return 2;
        return dc_fail(err, n, source.message[0] ? source.message : "corrupt PNG");
    }
    png_set_user_limits(png, 0x7fffffff, 0x7fffffff);   /* the size check below names the limit */
    png_set_chunk_malloc_max(png, 8 << 20);
    png_set_read_fn(png, &source, png_read_memory);
    png_read_info(png, pinfo);
    png_uint_32 width = png_get_image_width(png, pinfo), height = png_get_image_height(png, pinfo);
    int colour_type = png_get_color_type(png, pinfo), depth = png_get_bit_depth(png, pinfo);
    if (dc_size_refused(width, height)) {
        png_destroy_read_struct(&png, &pinfo, NULL);
        return dc_fail(err, n, "PNG size out of range (1 to 65535 pixels a side, at most 67,108,864 pixels)");
    }
    int colour = (colour_type & PNG_COLOR_MASK_COLOR) != 0;   /* RGB, RGBA and palette */
    info->format = 1;
    info->width = info->decoded_width = (int)width;
    info->height = info->decoded_height = (int)height;
    info->channels = colour ? 3 : 1;
    info->scan_offset = 0;
    if (header_only) { png_destroy_read_struct(&png, &pinfo, NULL); return 0; }

    /* PIL's convert("RGB") / convert("L"): palettes expanded (their transparency ignored), alpha
       dropped, 16-bit samples cut to their high byte (PIL's "RGB;16B" raw mode), no gamma applied. */
    if (colour_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (!colour && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (depth == 16) png_set_strip_16(png);
    /* Expanding a palette or grey image with tRNS adds an alpha channel: dropped as well. */
    if ((colour_type & PNG_COLOR_MASK_ALPHA) || png_get_valid(png, pinfo, PNG_INFO_tRNS)) png_set_strip_alpha(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, pinfo);
    size_t stride = (size_t)width * (size_t)info->channels;
    if (png_get_rowbytes(png, pinfo) != stride) png_error(png, "unexpected row layout after conversion");
    out = malloc(stride * height);
    rows = malloc(sizeof(png_bytep) * height);
    if (!out || !rows) png_error(png, "out of memory");
    for (png_uint_32 y = 0; y < height; y++) rows[y] = out + stride * y;
    png_read_image(png, rows);
    png_read_end(png, NULL);   /* the chunks after the image, through IEND: a truncated file fails here */
    png_destroy_read_struct(&png, &pinfo, NULL);
    free(rows);
    *pixels = out;
    return 0;
}
