/* rand.c - see rand.h. */
#include "rand.h"

#include <errno.h>
#include <sys/random.h>

bool rand_fill(void *p, size_t n)
{
    unsigned char *c = p;
    while (n > 0) {
        ssize_t k = getrandom(c, n, 0);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        c += k;
        n -= (size_t)k;
    }
    return true;
}
