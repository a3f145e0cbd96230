/* fuzz_import.c - libFuzzer harness for `rlc import`: the input is YAML
 * that a user hands to `rlc import envoy` or `rlc import limitador` (the
 * first byte's low bit picks which; the rest is the file), read by
 * compiler/yaml_doc.c with libyaml and mapped by import_envoy.c or
 * import_limitador.c exactly as the CLI does, Kubernetes wrappers and
 * multi-document files included.  Every input must end in a policy or in
 * located diagnostics, within the reader's caps.  The harness prints
 * nothing and frees everything. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "buf.h"
#include "diag.h"
#include "import.h"
#include "source.h"
#include "xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    import_format f = (data[0] & 1) ? IMPORT_LIMITADOR : IMPORT_ENVOY;
    size_t len = size - 1;
    char *text = xmalloc(len + 1);
    memcpy(text, data + 1, len);
    text[len] = '\0';
    arena *a = arena_new();
    srcmap map;
    srcmap_init(&map);
    diag_list dl;
    diag_list_init(&dl, a);
    uint32_t file = srcmap_add(&map, "fuzz.yaml", "fuzz.yaml", text, len, false);
    buf out;
    buf_init(&out, 0);
    bool ok = import_files(a, &dl, &map, f, &file, 1, &out);
    /* A success must have reported no error; a failure at least one. */
    if (ok != (dl.nerrors == 0))
        abort();
    buf_free(&out);
    srcmap_free(&map);
    arena_free(a);
    return 0;
}
