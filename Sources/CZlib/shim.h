#ifndef DEEPCLUSTER_CZLIB_SHIM_H
#define DEEPCLUSTER_CZLIB_SHIM_H
#include <zlib.h>
#endif
