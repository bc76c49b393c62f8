#ifndef SHOPFLOOR_CPROTOBUFC_SHIM_H
#define SHOPFLOOR_CPROTOBUFC_SHIM_H
#include <protobuf-c/protobuf-c.h>
#endif
