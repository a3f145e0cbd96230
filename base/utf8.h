/* utf8.h - UTF-8 sequences, strictly (no overlong forms, surrogates or
 * code points past U+10FFFF): what the scanner accepts in a source, what a
 * column counts as one character, where a cut message may end, and a code
 * point written out (a \u escape decoded).  Decoding to code points is not
 * here; nothing needs it. */
#ifndef RLC_UTF8_H
#define RLC_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. */
size_t utf8_seq_len(const unsigned char *s, size_t n);
/* Offset of the first invalid UTF-8 byte in s, or n when all valid. */
size_t utf8_validate(const char *s, size_t n);
/* Writes code point cp (at most U+10FFFF, not a surrogate) as UTF-8 into
 * out; returns its length (1..4). */
size_t utf8_put(uint32_t cp, char out[4]);

#endif
