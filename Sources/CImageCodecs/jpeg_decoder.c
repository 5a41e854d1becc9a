/* JPEG through libjpeg-turbo: grey, YCbCr, RGB, CMYK and YCCK; baseline and progressive; DCT scaling. */
#include "codecs_internal.h"
#include <jpeglib.h>
#include <jerror.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

struct jpeg_failure {
    struct jpeg_error_mgr mgr;
    jmp_buf jump;
    int ran_out;   /* the data ended: a truncated file, or a header probe given too few bytes */
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
    if (level >= 0) return;
    struct jpeg_failure *f = (struct jpeg_failure *)cinfo->err;
    if (cinfo->err->msg_code == JWRN_JPEG_EOF) f->ran_out = 1;
    jpeg_error_exit(cinfo);
}

/* PIL's CMYK → RGB (Convert.c cmyk2rgb): each channel (255 − k) − c·(255 − k)/255, rounded as MULDIV255. */
static uint8_t cmyk_channel(int c, int k) {
    int nk = 255 - k, t = c * nk + 128;
    int v = nk - ((t + (t >> 8)) >> 8);
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/* The scale num/8 (8, 4, 2 or 1) that keeps the shorter side at least min_side, as PIL's draft. */
static int dct_scale(unsigned width, unsigned height, int min_side) {
    if (min_side <= 0) return 8;
    unsigned shorter = width < height ? width : height;
    for (int num = 1; num < 8; num *= 2)
        if ((shorter * (unsigned)num + 7) / 8 >= (unsigned)min_side) return num;
    return 8;
}

int dc_decode_jpeg(const uint8_t *data, size_t size, int header_only, int min_side, dc_image_info *info,
                   uint8_t **pixels, char *err, size_t n) {
    struct jpeg_decompress_struct cinfo;
    struct jpeg_failure f;
    uint8_t *volatile out = NULL;
    uint8_t *volatile row = NULL;
    cinfo.err = jpeg_std_error(&f.mgr);
    f.mgr.error_exit = jpeg_error_exit;
    f.mgr.emit_message = jpeg_emit_message;
    f.message[0] = 0;
    f.ran_out = 0;
    if (setjmp(f.jump)) {
        jpeg_destroy_decompress(&cinfo);
        free(out);
        free(row);
        if (header_only && f.ran_out) return 2;
        return dc_fail(err, n, f.message[0] ? f.message : "corrupt JPEG");
    }
    jpeg_create_decompress(&cinfo);
    cinfo.mem->max_memory_to_use = DC_JPEG_MEMORY_LIMIT;
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);
    /* The size is checked here, from the header: for a progressive file jpeg_start_decompress already
       allocates the whole coefficient buffer. */
    if (dc_size_refused(cinfo.image_width, cinfo.image_height)) {
        jpeg_destroy_decompress(&cinfo);
        return dc_fail(err, n, "JPEG size out of range (1 to 65535 pixels a side, at most 67,108,864 pixels)");
    }
    int cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
    int grey = cinfo.num_components == 1;
    if (!grey && cinfo.num_components != 3 && !cmyk) {
        jpeg_destroy_decompress(&cinfo);
        return dc_fail(err, n, "JPEG with an unsupported number of components");
    }
    int adobe_inverted = cmyk && cinfo.saw_Adobe_marker;
    cinfo.out_color_space = grey ? JCS_GRAYSCALE : cmyk ? JCS_CMYK : JCS_RGB;
    cinfo.scale_num = (unsigned)dct_scale(cinfo.image_width, cinfo.image_height, min_side);
    cinfo.scale_denom = 8;
    jpeg_calc_output_dimensions(&cinfo);
    info->format = 2;
    info->width = (int)cinfo.image_width; info->height = (int)cinfo.image_height;
    info->channels = grey ? 1 : 3;
    info->decoded_width = (int)cinfo.output_width; info->decoded_height = (int)cinfo.output_height;
    info->scan_offset = size - cinfo.src->bytes_in_buffer;
    if (header_only) { jpeg_destroy_decompress(&cinfo); return 0; }

    jpeg_start_decompress(&cinfo);
    size_t channels = (size_t)info->channels, width = cinfo.output_width;
    out = malloc(width * channels * cinfo.output_height);
    if (!out) { jpeg_destroy_decompress(&cinfo); return dc_fail(err, n, "out of memory"); }
    if (cmyk) {
        row = malloc(width * 4);
        if (!row) { jpeg_destroy_decompress(&cinfo); free(out); return dc_fail(err, n, "out of memory"); }
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        uint8_t *dst = out + width * channels * cinfo.output_scanline;
        JSAMPROW target = cmyk ? row : dst;
        jpeg_read_scanlines(&cinfo, &target, 1);
        if (!cmyk) continue;
        for (size_t x = 0; x < width; x++) {
            int c = row[4 * x], m = row[4 * x + 1], y = row[4 * x + 2], k = row[4 * x + 3];
            if (adobe_inverted) { c = 255 - c; m = 255 - m; y = 255 - y; k = 255 - k; }
            dst[3 * x] = cmyk_channel(c, k); dst[3 * x + 1] = cmyk_channel(m, k); dst[3 * x + 2] = cmyk_channel(y, k);
        }
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    free(row);
    *pixels = out;
    return 0;
}
