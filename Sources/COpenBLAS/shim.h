// OpenBLAS (CBLAS + thread control) and LAPACKE. The guard must not be CBLAS_H: OpenBLAS's
// own cblas.h uses that name and would silently become empty.
#ifndef DEEPCLUSTER_COPENBLAS_SHIM_H
#define DEEPCLUSTER_COPENBLAS_SHIM_H
#include <cblas.h>
#include <lapacke.h>
#endif
