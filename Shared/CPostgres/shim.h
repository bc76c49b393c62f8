#ifndef SHOPFLOOR_CPOSTGRES_SHIM_H
#define SHOPFLOOR_CPOSTGRES_SHIM_H
#include <libpq-fe.h>
#endif
