#ifndef SHOPFLOOR_CBLAS_SHIM_H
#define SHOPFLOOR_CBLAS_SHIM_H
// OpenBLAS's CBLAS interface (Debian libopenblas-dev, pkg-config "openblas"): the matrix products of
// rag-index's embedding model.
#include <cblas.h>
#endif
