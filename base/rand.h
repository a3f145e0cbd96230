/* rand.h - random bytes from the kernel (getrandom), for tokens, run ids
 * and temporary names.  Not OpenSSL's RAND_bytes: seeding its generator
 * costs about 8 M instructions (a millisecond) on every run, which a
 * one-tenant deploy cannot afford, and the kernel's pool is what it
 * seeds from anyway. */
#ifndef RLC_RAND_H
#define RLC_RAND_H

#include <stdbool.h>
#include <stddef.h>

/* Fills p[0..n) with random bytes; false (p unspecified) when the kernel
 * cannot give them. */
bool rand_fill(void *p, size_t n);

#endif
