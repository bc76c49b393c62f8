#ifndef SHOPFLOOR_COPENSSL_SHIM_H
#define SHOPFLOOR_COPENSSL_SHIM_H
// Only libcrypto's password hashing, digest and random bytes: api's passwords and API tokens.
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#endif
