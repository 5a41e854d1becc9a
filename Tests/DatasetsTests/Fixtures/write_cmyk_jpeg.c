/* Writes a CMYK JPEG from raw CMYK bytes, stored as CMYK or YCCK, with or without the Adobe marker:
   the decoder fixtures' inputs that PIL cannot write (make_decoder_fixture.py compiles and runs it).
   usage: write_cmyk_jpeg WIDTH HEIGHT RAW_CMYK_FILE OUT.jpg cmyk|ycck adobe|plain */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>

int main(int argc, char **argv) {
    if (argc != 7) return 2;
    int w = atoi(argv[1]), h = atoi(argv[2]);
    unsigned char *raw = malloc((size_t)w * h * 4);
    FILE *in = fopen(argv[3], "rb");
    if (!in || fread(raw, 4, (size_t)w * h, in) != (size_t)w * h) return 3;
    fclose(in);
    FILE *out = fopen(argv[4], "wb");
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr e;
    c.err = jpeg_std_error(&e);
    jpeg_create_compress(&c);
    jpeg_stdio_dest(&c, out);
    c.image_width = w; c.image_height = h; c.input_components = 4; c.in_color_space = JCS_CMYK;
    jpeg_set_defaults(&c);
    jpeg_set_colorspace(&c, strcmp(argv[5], "ycck") == 0 ? JCS_YCCK : JCS_CMYK);
    c.write_Adobe_marker = strcmp(argv[6], "adobe") == 0;
    jpeg_set_quality(&c, 92, TRUE);
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < c.image_height) {
        JSAMPROW row = raw + (size_t)c.next_scanline * w * 4;
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    fclose(out);
    return 0;
}
