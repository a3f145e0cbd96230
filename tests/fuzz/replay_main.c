/* replay_main.c - runs a libFuzzer harness without libFuzzer: each file
 * named on the command line is fed to LLVMFuzzerTestOneInput once.  `make
 * test` builds every harness this way with the project's own compiler and
 * flags (and under `make asan` with the sanitizers), so a harness that no
 * longer builds, or an input that once crashed it, fails the ordinary test
 * run, not only `make fuzz`. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) {
            perror(argv[i]);
            return 2;
        }
        size_t cap = 1 << 16, n = 0, r;
        uint8_t *b = malloc(cap);
        while (b && (r = fread(b + n, 1, cap - n, f)) > 0) {
            n += r;
            if (n == cap) {
                uint8_t *nb = realloc(b, cap * 2);
                if (!nb) {
                    free(b);
                    b = NULL;
                    break;
                }
                b = nb;
                cap *= 2;
            }
        }
        fclose(f);
        if (!b) {
            fprintf(stderr, "replay: out of memory\n");
            return 2;
        }
        LLVMFuzzerTestOneInput(b, n);
        free(b);
    }
    return 0;
}
