/* test_store.c - unit tests of the store client pieces that need no server:
 * URL parsing, SHA-256 and canonical JSON.  Key slots are the plan
 * contract's (tests/unit/test_plan_key.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "digest.h"
#include "redis_cluster.h"
#include "redis_conn.h"

static void url_parse(void **st)
{
    (void)st;
    rurl u;
    rerr e = {0};
    assert_true(rurl_parse("redis://127.0.0.1:7001/3", false, &u, &e));
    assert_string_equal(u.host, "127.0.0.1");
    assert_int_equal(u.port, 7001);
    assert_int_equal(u.db, 3);
    assert_string_equal(u.user, "");
    assert_true(rurl_parse("redis://localhost", false, &u, &e));
    assert_int_equal(u.port, 6379);
    assert_int_equal(u.db, 0);
    assert_true(rurl_parse("redis://deployer:p%40ss@h:1/", true, &u, &e));
    assert_string_equal(u.user, "deployer");
    assert_string_equal(u.pass, "p@ss");
    assert_true(rurl_parse("redis://deployer@h:1", false, &u, &e));
    assert_string_equal(u.user, "deployer");
    /* A password on the command line is refused. */
    assert_false(rurl_parse("redis://u:secret@h:1", false, &u, &e));
    assert_int_equal(e.code, DIAG_STORE_URL);
    assert_false(rurl_parse("http://h:1", true, &u, &e));
    assert_false(rurl_parse("redis://h:0", true, &u, &e));
    assert_false(rurl_parse("redis://h:99999", true, &u, &e));
    assert_false(rurl_parse("redis://:1", true, &u, &e));
    assert_false(rurl_parse("redis://h:1/x", true, &u, &e));
    assert_false(rurl_parse("redis://u:%4@h:1", true, &u, &e));
    assert_false(u.tls.on);
}

/* rediss:// and the TLS settings of its query. */
static void url_parse_tls(void **st)
{
    (void)st;
    rurl u;
    rerr e = {0};
    assert_true(rurl_parse("rediss://h.example:6380/2", false, &u, &e));
    assert_true(u.tls.on);
    assert_false(u.tls.no_verify);
    assert_string_equal(u.host, "h.example");
    assert_int_equal(u.port, 6380);
    assert_int_equal(u.db, 2);
    assert_string_equal(u.tls.ca_file, "");
    assert_true(rurl_parse("rediss://u@10.0.0.1:6380?ca_file=/etc/ca%20x.pem&cert_file=/c.pem"
                           "&key_file=/k.pem&tls_server_name=redis.internal&tls_verify=false",
                           false, &u, &e));
    assert_string_equal(u.user, "u");
    assert_string_equal(u.host, "10.0.0.1");
    assert_string_equal(u.tls.ca_file, "/etc/ca x.pem");
    assert_string_equal(u.tls.cert_file, "/c.pem");
    assert_string_equal(u.tls.key_file, "/k.pem");
    assert_string_equal(u.tls.server_name, "redis.internal");
    assert_true(u.tls.no_verify);
    /* A query on redis:// would be TLS settings without TLS. */
    assert_false(rurl_parse("redis://h:1?ca_file=/x", false, &u, &e));
    assert_int_equal(e.code, DIAG_TLS_CONFIG);
    assert_false(rurl_parse("rediss://h:1?cafile=/x", false, &u, &e));
    assert_int_equal(e.code, DIAG_STORE_URL);
    assert_false(rurl_parse("rediss://h:1?ca_file=/x&ca_file=/y", false, &u, &e));
    assert_false(rurl_parse("rediss://h:1?tls_verify=no", false, &u, &e));
    assert_false(rurl_parse("rediss://h:1?ca_file=/x%00y", false, &u, &e));
    assert_false(rurl_parse("rediss://h:1?ca_file=", false, &u, &e));
    /* The key's passphrase is a secret: never on the command line. */
    assert_false(rurl_parse("rediss://h:1?key_passphrase=pw", false, &u, &e));
    assert_int_equal(e.code, DIAG_STORE_URL);
    assert_true(rurl_parse("rediss://h:1?key_passphrase=p%26w", true, &u, &e));
    assert_string_equal(u.tls.key_pass, "p&w");
}

static void sha256_and_canonical(void **st)
{
    (void)st;
    char hex[65];
    assert_true(digest_sha256_hex("abc", 3, hex));
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    json_t *a = json_loads("{\"b\": 1, \"a\": [\"\\u00e9\", 2]}", 0, NULL);
    json_t *b = json_loads("{\"a\":[\"\xc3\xa9\",2],\"b\":1}", 0, NULL);
    char *ca = digest_canonical_json(a), *cb = digest_canonical_json(b);
    assert_string_equal(ca, "{\"a\":[\"\\u00E9\",2],\"b\":1}");
    assert_string_equal(ca, cb);
    free(ca);
    free(cb);
    json_decref(a);
    json_decref(b);
}

/* A server that accepts connections (the kernel's backlog does) but never
 * answers: the command must time out as a value, and the next command must
 * reconnect and time out again rather than read a stale reply. */
static void command_timeout(void **st)
{
    (void)st;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, 8), 0);
    socklen_t al = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &al);
    rconn_opts o = {.connect_ms = 500, .cmd_ms = 150};
    rerr e = {0};
    rconn *c = rconn_open("127.0.0.1", ntohs(a.sin_port), &o, &e);
    assert_non_null(c);
    redisReply *r = rconn_cmdf(c, &e, "PING");
    assert_null(r);
    assert_int_equal(e.code, DIAG_STORE_TIMEOUT);
    rerr_clear(&e);
    r = rconn_cmdf(c, &e, "PING");
    assert_null(r);
    assert_int_equal(e.code, DIAG_STORE_TIMEOUT);
    rconn_close(c);
    close(fd);
}

/* rconn_format writes the bytes hiredis's formatter writes, for counts and
 * lengths around every power of ten up to 10 000, empty and binary
 * arguments, with and without lengths. */
static void resp_format(void **st)
{
    (void)st;
    static char big[10001];
    memset(big, 'x', sizeof big - 1);
    big[3] = '\0';             /* a NUL inside: only lengths carry it */
    const size_t sizes[] = {0, 1, 9, 10, 11, 99, 100, 101, 999, 1000, 9999, 10000};
    for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++) {
        for (int argc = 1; argc <= 12; argc++) {
            const char *argv[12];
            size_t lens[12];
            for (int a = 0; a < argc; a++) {
                argv[a] = a % 2 ? big : "HSET";
                lens[a] = a % 2 ? sizes[si] : 4;
            }
            char *mine = NULL, *theirs = NULL;
            size_t n = rconn_format(&mine, argc, argv, lens);
            int m = redisFormatCommandArgv(&theirs, argc, argv, lens);
            assert_int_equal(n, (size_t)m);
            assert_memory_equal(mine, theirs, n);
            free(mine);
            redisFreeCommand(theirs);
        }
    }
    const char *plain[3] = {"SET", "{ns:t1}:active", ""};
    char *mine = NULL, *theirs = NULL;
    size_t n = rconn_format(&mine, 3, plain, NULL);
    int m = redisFormatCommandArgv(&theirs, 3, plain, NULL);
    assert_int_equal(n, (size_t)m);
    assert_memory_equal(mine, theirs, n);
    assert_memory_equal(mine, "*3\r\n$3\r\nSET\r\n$14\r\n{ns:t1}:active\r\n$0\r\n\r\n", n);
    free(mine);
    redisFreeCommand(theirs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(url_parse),
        cmocka_unit_test(url_parse_tls),
        cmocka_unit_test(sha256_and_canonical),
        cmocka_unit_test(command_timeout),
        cmocka_unit_test(resp_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
