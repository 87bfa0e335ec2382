/* The part of zlib's C API that the dataset export's gzip writer uses,
   declared here so that building needs only the runtime library (libz.so.1,
   Debian's zlib1g, which every Debian system has), never zlib's development
   headers. The layout of z_stream and the values below are zlib 1.2's
   (zlib.h), unchanged since 1.2.0; deflateInit2_ checks the stream's size and
   the library's major version against what the caller was built with. */
#ifndef LLAMACLOUD_ARCHIVE_CZLIB_SHIM_H
#define LLAMACLOUD_ARCHIVE_CZLIB_SHIM_H

typedef struct z_stream_s {
    const unsigned char *next_in;
    unsigned int avail_in;
    unsigned long total_in;
    unsigned char *next_out;
    unsigned int avail_out;
    unsigned long total_out;
    const char *msg;
    void *state;
    void *zalloc;
    void *zfree;
    void *opaque;
    int data_type;
    unsigned long adler;
    unsigned long reserved;
} z_stream;

#define Z_NO_FLUSH 0
#define Z_FINISH 4
#define Z_OK 0
#define Z_STREAM_END 1
#define Z_BUF_ERROR (-5)
#define Z_DEFLATED 8
#define Z_DEFAULT_STRATEGY 0
/* 15 bits of window, plus 16: a gzip header and trailer instead of zlib's. */
#define ARCHIVE_GZIP_WINDOW_BITS 31
#define ARCHIVE_ZLIB_VERSION "1.2.13"

int deflateInit2_(z_stream *strm, int level, int method, int windowBits, int memLevel, int strategy,
                  const char *version, int stream_size);
int deflate(z_stream *strm, int flush);
int deflateEnd(z_stream *strm);
int inflateInit2_(z_stream *strm, int windowBits, const char *version, int stream_size);
int inflate(z_stream *strm, int flush);
int inflateEnd(z_stream *strm);
int inflateReset(z_stream *strm);

#endif
