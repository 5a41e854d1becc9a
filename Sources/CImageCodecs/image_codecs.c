#include "image_codecs.h"
#include <stdio.h>   /* before jpeglib.h, which uses FILE */
#include <jpeglib.h>
#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

/* 8192 × 8192: a few hundred bytes of header may claim 65535 × 65535 × 3 (12.8 GB); the trainer
   resizes every image to its input anyway, so larger ones are refused before anything is allocated. */
#define MAX_PIXELS ((uint64_t)1 << 26)

void dc_free(void *p) { free(p); }

static int fail(char *err, size_t n, const char *msg) {
    snprintf(err, n, "%s", msg);
    return 1;
}

/* ---------------------------------------------------------------- PNG (libpng's simplified API) */
static int decode_png(const uint8_t *data, size_t size, uint8_t **pixels, int *w, int *h, int *c_out, char *err, size_t n) {
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&img, data, size)) return fail(err, n, img.message);
    if (img.width == 0 || img.height == 0 || img.width > 65535 || img.height > 65535 ||
        (uint64_t)img.width * img.height > MAX_PIXELS) {
        png_image_free(&img);
        return fail(err, n, "PNG size out of range (1 to 65535 pixels a side, at most 67,108,864 pixels)");
    }
    int colour = (img.format & PNG_FORMAT_FLAG_COLOR) != 0;
    int alpha = (img.format & PNG_FORMAT_FLAG_ALPHA) != 0;
    int c = colour ? 3 : 1;
    /* Alpha is read and then dropped, as PIL's convert("RGB") in torchvision's loader drops it. */
    img.format = colour ? (alpha ? PNG_FORMAT_RGBA : PNG_FORMAT_RGB) : (alpha ? PNG_FORMAT_GA : PNG_FORMAT_GRAY);
    size_t bytes = PNG_IMAGE_SIZE(img);
    uint8_t *out = malloc(bytes);
    if (!out) { png_image_free(&img); return fail(err, n, "out of memory"); }
    if (!png_image_finish_read(&img, NULL, out, 0, NULL)) {
        free(out);
        return fail(err, n, img.message);
    }
    if (alpha) {
        size_t count = (size_t)img.width * img.height;
        for (size_t i = 0; i < count; i++)
            for (int k = 0; k < c; k++) out[i * c + k] = out[i * (c + 1) + k];
    }
    *pixels = out; *w = (int)img.width; *h = (int)img.height; *c_out = c;
    return 0;
}

/* ---------------------------------------------------------------- JPEG (libjpeg-turbo) */
struct jpeg_failure {
    struct jpeg_error_mgr mgr;
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
};

static void jpeg_error_exit(j_common_ptr cinfo) {
    struct jpeg_failure *f = (struct jpeg_failure *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, f->message);
    longjmp(f->jump, 1);
}

/* libjpeg only warns on corrupt data ("Premature end of JPEG file") and fills the rest with grey:
   a trainer must not learn from that, so warnings are errors here. Trace messages are ignored. */
static void jpeg_emit_message(j_common_ptr cinfo, int level) {
    if (level < 0) jpeg_error_exit(cinfo);
}

static int decode_jpeg(const uint8_t *data, size_t size, uint8_t **pixels, int *w, int *h, int *c, char *err, size_t n) {
    struct jpeg_decompress_struct cinfo;
    struct jpeg_failure f;
    uint8_t *volatile out = NULL;
    cinfo.err = jpeg_std_error(&f.mgr);
    f.mgr.error_exit = jpeg_error_exit;
    f.mgr.emit_message = jpeg_emit_message;
    f.message[0] = 0;
    if (setjmp(f.jump)) {
        jpeg_destroy_decompress(&cinfo);
        free(out);
        return fail(err, n, f.message[0] ? f.message : "corrupt JPEG");
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);
    if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
        jpeg_destroy_decompress(&cinfo);
        return fail(err, n, "CMYK JPEG is not supported (convert it to RGB)");
    }
    int grey = cinfo.num_components == 1;
    cinfo.out_color_space = grey ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_start_decompress(&cinfo);
    if (cinfo.output_width == 0 || cinfo.output_height == 0 || cinfo.output_width > 65535 || cinfo.output_height > 65535 ||
        (uint64_t)cinfo.output_width * cinfo.output_height > MAX_PIXELS) {
        jpeg_destroy_decompress(&cinfo);
        return fail(err, n, "JPEG size out of range (1 to 65535 pixels a side, at most 67,108,864 pixels)");
    }
    size_t stride = (size_t)cinfo.output_width * (size_t)cinfo.output_components;
    out = malloc(stride * cinfo.output_height);
    if (!out) { jpeg_destroy_decompress(&cinfo); return fail(err, n, "out of memory"); }
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = out + stride * cinfo.output_scanline;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);
    *pixels = out; *w = (int)cinfo.output_width; *h = (int)cinfo.output_height; *c = cinfo.output_components;
    jpeg_destroy_decompress(&cinfo);
    return 0;
}

int dc_decode_image(const uint8_t *data, size_t size, uint8_t **pixels, int *width, int *height,
                    int *channels, char *err, size_t err_size) {
    static const uint8_t png_magic[8] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a};
    *pixels = NULL;
    if (size >= 8 && memcmp(data, png_magic, 8) == 0) return decode_png(data, size, pixels, width, height, channels, err, err_size);
    if (size >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff)
        return decode_jpeg(data, size, pixels, width, height, channels, err, err_size);
    return fail(err, err_size, "not a PNG or JPEG (unknown magic bytes)");
}

int dc_encode_png(const uint8_t *pixels, int width, int height, int channels, uint8_t **out, size_t *out_size,
                  char *err, size_t err_size) {
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    img.width = (png_uint_32)width; img.height = (png_uint_32)height;
    img.format = channels == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
    png_alloc_size_t size = 0;
    if (!png_image_write_to_memory(&img, NULL, &size, 0, pixels, 0, NULL)) return fail(err, err_size, img.message);
    uint8_t *buf = malloc(size);
    if (!buf) return fail(err, err_size, "out of memory");
    if (!png_image_write_to_memory(&img, buf, &size, 0, pixels, 0, NULL)) { free(buf); return fail(err, err_size, img.message); }
    *out = buf; *out_size = size;
    return 0;
}

int dc_encode_jpeg(const uint8_t *pixels, int width, int height, int channels, int quality, uint8_t **out,
                   size_t *out_size, char *err, size_t err_size) {
    struct jpeg_compress_struct cinfo;
    struct jpeg_failure f;
    unsigned char *volatile buf = NULL;
    unsigned long size = 0;
    cinfo.err = jpeg_std_error(&f.mgr);
    f.mgr.error_exit = jpeg_error_exit;
    f.message[0] = 0;
    if (setjmp(f.jump)) {
        jpeg_destroy_compress(&cinfo);
        free(buf);
        return fail(err, err_size, f.message);
    }
    jpeg_create_compress(&cinfo);
    unsigned char *b = NULL;
    jpeg_mem_dest(&cinfo, &b, &size);
    cinfo.image_width = (JDIMENSION)width; cinfo.image_height = (JDIMENSION)height;
    cinfo.input_components = channels;
    cinfo.in_color_space = channels == 3 ? JCS_RGB : JCS_GRAYSCALE;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    size_t stride = (size_t)width * (size_t)channels;
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = (JSAMPROW)(pixels + stride * cinfo.next_scanline);
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    buf = b;
    jpeg_destroy_compress(&cinfo);
    *out = buf; *out_size = size;
    return 0;
}
