#include "codecs_internal.h"
#include <jpeglib.h>
#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

void dc_free(void *p) { free(p); }

int dc_fail(char *err, size_t n, const char *msg) {
    snprintf(err, n, "%s", msg);
    return 1;
}

int dc_size_refused(uint64_t width, uint64_t height) {
    return width == 0 || height == 0 || width > 65535 || height > 65535 || width * height > DC_MAX_PIXELS;
}

static const uint8_t png_magic[8] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a};
static int is_png(const uint8_t *data, size_t size) { return size >= 8 && memcmp(data, png_magic, 8) == 0; }
static int is_jpeg(const uint8_t *data, size_t size) { return size >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff; }

int dc_decode_image(const uint8_t *data, size_t size, int min_side, uint8_t **pixels, dc_image_info *info,
                    char *err, size_t err_size) {
    *pixels = NULL;
    memset(info, 0, sizeof *info);
    if (is_png(data, size)) return dc_decode_png(data, size, 0, info, pixels, err, err_size);
    if (is_jpeg(data, size)) return dc_decode_jpeg(data, size, 0, min_side, info, pixels, err, err_size);
    return dc_fail(err, err_size, size == 0 ? "empty file" : "not a PNG or JPEG (unknown magic bytes)");
}

int dc_probe_image(const uint8_t *data, size_t size, dc_image_info *info, char *err, size_t err_size) {
    uint8_t *none = NULL;
    memset(info, 0, sizeof *info);
    if (size < 8 && size > 0 && (memcmp(data, png_magic, size) == 0 || (data[0] == 0xff && (size < 2 || data[1] == 0xd8)))) return 2;
    if (is_png(data, size)) return dc_decode_png(data, size, 1, info, &none, err, err_size);
    if (is_jpeg(data, size)) return dc_decode_jpeg(data, size, 1, 0, info, &none, err, err_size);
    return dc_fail(err, err_size, size == 0 ? "empty file" : "not a PNG or JPEG (unknown magic bytes)");
}

/* ---------------------------------------------------------------- encoders */
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

int dc_encode_png(const uint8_t *pixels, int width, int height, int channels, uint8_t **out, size_t *out_size,
                  char *err, size_t err_size) {
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    img.width = (png_uint_32)width; img.height = (png_uint_32)height;
    img.format = channels == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
    png_alloc_size_t size = 0;
    if (!png_image_write_to_memory(&img, NULL, &size, 0, pixels, 0, NULL)) return dc_fail(err, err_size, img.message);
    uint8_t *buf = malloc(size);
    if (!buf) return dc_fail(err, err_size, "out of memory");
    if (!png_image_write_to_memory(&img, buf, &size, 0, pixels, 0, NULL)) { free(buf); return dc_fail(err, err_size, img.message); }
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
        return dc_fail(err, err_size, f.message);
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
