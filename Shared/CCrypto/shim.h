#pragma once
// OpenSSL's libcrypto, for SHA-256 only: its implementation uses the CPU's SHA extensions
// (or AVX2) where libsodium's is portable C, about five times slower on this hardware.
// libcrypto is already loaded in every service through libpq and libcurl.
#include <openssl/evp.h>
