/* utf8.h - UTF-8 sequences, strictly (no overlong forms, surrogates or
 * code points past U+10FFFF): what the scanner accepts in a source, what a
 * column counts as one character, where a cut message may end.  Decoding to
 * code points is not here; nothing needs it. */
#ifndef RLC_UTF8_H
#define RLC_UTF8_H

#include <stddef.h>

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. */
size_t utf8_seq_len(const unsigned char *s, size_t n);
/* Offset of the first invalid UTF-8 byte in s, or n when all valid. */
size_t utf8_validate(const char *s, size_t n);

#endif
