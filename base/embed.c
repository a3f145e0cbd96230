/* embed.c - lookups in the generated tables.  See embed.h. */
#include "embed.h"

#include <string.h>

const embedded_file *embedded_find(const char *name)
{
    for (size_t i = 0; i < rlc_embedded_count; i++)
        if (strcmp(rlc_embedded[i].name, name) == 0)
            return &rlc_embedded[i];
    return NULL;
}

const explain_page *explain_find(int code)
{
    for (size_t i = 0; i < rlc_explain_count; i++)
        if (rlc_explain_pages[i].code == code)
            return &rlc_explain_pages[i];
    return NULL;
}
