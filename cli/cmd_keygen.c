/* cmd_keygen.c - `rlc keygen KEY`: a new Ed25519 key pair for signing plans
 * (plan/plan_sign.c does the work): KEY, the private key (mode 0600), for
 * `rlc compile --sign KEY`, and KEY.pub for `rlc run --verify KEY.pub` or
 * $RLC_VERIFY_KEY.  Existing files are never replaced. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "diag.h"
#include "plan_sign.h"

static const char help[] =
    "usage: rlc keygen KEY\n"
    "\n"
    "Write a new Ed25519 key pair for signing plans: the private key to KEY (PEM,\n"
    "mode 0600) and the public key to KEY.pub.  Sign with 'rlc compile --sign KEY';\n"
    "deploy hosts check with 'rlc run --verify KEY.pub' or RLC_VERIFY_KEY=KEY.pub\n"
    "(SPEC.md 5.8).  An existing KEY or KEY.pub is never replaced.  The same keys\n"
    "come from: openssl genpkey -algorithm ed25519 -out KEY &&\n"
    "           openssl pkey -in KEY -pubout -out KEY.pub\n"
    "\n"
    "exit status: 0 written, 2 usage error or the key could not be written\n";

int cmd_keygen(int argc, char **argv)
{
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        fputs(help, stdout);
        return EXIT_OK;
    }
    if (argc != 2 || argv[1][0] == '-')
        return cli_usage_error("keygen", argc < 2 ? "no key file given" : "expected one KEY "
                               "file name");
    rerr e;
    if (!plan_keygen(argv[1], &e)) {
        char cs[16];
        diag_code_str(e.code, cs);
        fprintf(stderr, "rlc keygen: error[%s]: %s\n", cs, e.msg);
        return EXIT_USAGE;
    }
    printf("wrote %s (private, mode 0600) and %s.pub\n", argv[1], argv[1]);
    return EXIT_OK;
}
