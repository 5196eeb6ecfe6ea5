/*
 * test_curve.c: CurveZMQ pieces in one process (curve.h, auth.h): keygen writes a czmq pair
 * (secret mode 0600) and never overwrites; a client's missing settings and files are errors
 * naming them, ipc never uses CURVE; through the ZAP handler a client key opens the clients
 * socket and not the workers one, a worker key the other way round, an unknown key neither;
 * the configuration loader's bool values and its list of every program's keys.
 */
#include "minga/auth.h"
#include "minga/config.h"
#include "minga/curve.h"
#include "minga/error.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char s_dir[64];

static int s_setup(void **state)
{
    (void)state;
    snprintf(s_dir, sizeof s_dir, "/tmp/minga-XXXXXX");
    return mkdtemp(s_dir) ? 0 : -1;
}

static int s_teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", s_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void s_path(char *dst, size_t cap, const char *name)
{
    snprintf(dst, cap, "%s/%s", s_dir, name);
}

static void test_keygen(void **state)
{
    (void)state;
    char err[512], pub[41], path[128];
    assert_int_equal(minga_curve_keygen(s_dir, "k1", pub, err, sizeof err), 0);
    assert_int_equal(strlen(pub), 40);
    s_path(path, sizeof path, "k1.cert_secret");
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    s_path(path, sizeof path, "k1.cert");
    zcert_t *cert = zcert_load(path);
    assert_non_null(cert);
    assert_string_equal(zcert_public_txt(cert), pub);
    assert_string_not_equal(zcert_secret_txt(cert), "0000000000000000000000000000000000000000");
    zcert_destroy(&cert);
    assert_int_equal(minga_curve_keygen(s_dir, "k1", NULL, err, sizeof err), MINGA_EEXIST);
    assert_non_null(strstr(err, "k1.cert"));
}

static void test_client_settings(void **state)
{
    (void)state;
    char err[512], path[128], key[128];
    minga_curve_t c;
    minga_curve_init(&c);
    zsock_t *s = zsock_new(ZMQ_DEALER);
    assert_int_equal(minga_curve_client_setup(s, "ipc:///tmp/x", &c, err, sizeof err), 0);
    assert_int_equal(minga_curve_client_setup(s, "tcp://127.0.0.1:1", &c, err, sizeof err),
                     MINGA_EINVAL);
    assert_non_null(strstr(err, "--broker-key"));
    assert_int_equal(minga_curve_keygen(s_dir, "k2", NULL, err, sizeof err), 0);
    s_path(path, sizeof path, "k2.cert_secret");
    s_path(key, sizeof key, "nope.cert");
    c.cert = strdup(path);
    c.broker_key = strdup(key);
    assert_int_equal(minga_curve_client_setup(s, "tcp://127.0.0.1:1", &c, err, sizeof err),
                     MINGA_EINVAL);
    assert_non_null(strstr(err, "nope.cert"));
    free(c.broker_key);
    c.broker_key = strdup(path); /* the secret file's name stands for the pair */
    assert_int_equal(minga_curve_client_setup(s, "tcp://127.0.0.1:1", &c, err, sizeof err), 0);
    c.enabled = 0;
    assert_false(minga_curve_on(&c, "tcp://127.0.0.1:1"));
    minga_curve_free(&c);
    zsock_destroy(&s);
}

/* Can a DEALER with cert reach a ROUTER of domain? (a PING gets an echo back) */
static bool s_reaches(const char *ep, const char *cert, const char *broker)
{
    minga_curve_t c = {.enabled = 1, .cert = (char *)cert, .broker_key = (char *)broker};
    char err[512];
    zsock_t *d = zsock_new(ZMQ_DEALER);
    zsock_set_sndtimeo(d, 200);
    assert_int_equal(minga_curve_client_setup(d, ep, &c, err, sizeof err), 0);
    assert_int_equal(zsock_connect(d, "%s", ep), 0);
    zstr_send(d, "PING");
    zpoller_t *p = zpoller_new(d, NULL);
    bool ok = zpoller_wait(p, 700) == d;
    zpoller_destroy(&p);
    zsock_destroy(&d);
    return ok;
}

/* Echoes whatever each of the two ROUTERs receives. */
static void s_echo(zsock_t *pipe, void *arg)
{
    zsock_t **routers = arg;
    zsock_signal(pipe, 0);
    zpoller_t *p = zpoller_new(pipe, routers[0], routers[1], NULL);
    while (true) {
        zsock_t *which = zpoller_wait(p, -1);
        if (!which || which == pipe)
            break;
        zmsg_t *m = zmsg_recv(which);
        zmsg_send(&m, which);
    }
    zpoller_destroy(&p);
}

static void test_domains(void **state)
{
    (void)state;
    char err[512], broker[128], client[128], worker[128], other[128], cdir[128], wdir[128];
    s_path(cdir, sizeof cdir, "clients");
    s_path(wdir, sizeof wdir, "workers");
    assert_int_equal(mkdir(cdir, 0755), 0);
    assert_int_equal(mkdir(wdir, 0755), 0);
    assert_int_equal(minga_curve_keygen(s_dir, "b", NULL, err, sizeof err), 0);
    assert_int_equal(minga_curve_keygen(cdir, "c", NULL, err, sizeof err), 0);
    assert_int_equal(minga_curve_keygen(wdir, "w", NULL, err, sizeof err), 0);
    assert_int_equal(minga_curve_keygen(s_dir, "o", NULL, err, sizeof err), 0);
    s_path(broker, sizeof broker, "b.cert");
    s_path(client, sizeof client, "clients/c.cert");
    s_path(worker, sizeof worker, "workers/w.cert");
    s_path(other, sizeof other, "o.cert");
    assert_null(minga_auth_new("/nonexistent/dir", NULL, err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent/dir"));
    zactor_t *auth = minga_auth_new(cdir, wdir, err, sizeof err);
    assert_non_null(auth);
    minga_curve_t c = {.enabled = 1, .cert = broker};
    zsock_t *routers[2] = {zsock_new(ZMQ_ROUTER), zsock_new(ZMQ_ROUTER)};
    const char *domains[2] = {MINGA_CURVE_DOMAIN_CLIENTS, MINGA_CURVE_DOMAIN_WORKERS};
    char eps[2][64];
    for (int i = 0; i < 2; i++) {
        assert_int_equal(
            minga_curve_server_setup(routers[i], "tcp://x", domains[i], &c, err, sizeof err), 0);
        int port = zsock_bind(routers[i], "tcp://127.0.0.1:*");
        assert_true(port > 0);
        snprintf(eps[i], sizeof eps[i], "tcp://127.0.0.1:%d", port);
    }
    zactor_t *echo = zactor_new(s_echo, routers);
    assert_true(s_reaches(eps[0], client, broker));
    assert_false(s_reaches(eps[1], client, broker));
    assert_true(s_reaches(eps[1], worker, broker));
    assert_false(s_reaches(eps[0], worker, broker));
    assert_false(s_reaches(eps[0], other, broker));
    assert_false(s_reaches(eps[1], other, broker));
    uint64_t allowed, denied;
    minga_auth_counts(auth, &allowed, &denied);
    assert_int_equal(allowed, 2);
    assert_true(denied >= 4);
    zactor_destroy(&echo);
    zsock_destroy(&routers[0]);
    zsock_destroy(&routers[1]);
    zactor_destroy(&auth);
}

static void test_config_keys(void **state)
{
    (void)state;
    assert_true(minga_config_known("broker/heartbeat_ms"));
    assert_true(minga_config_known("curve/client_certs"));
    assert_true(minga_config_known("smtp/host"));
    assert_true(minga_config_known("match/k_demand"));
    assert_true(minga_config_known("worker/drain_timeout_s"));
    assert_true(minga_config_known("client/broker"));
    assert_true(minga_config_known("store/map_max"));
    assert_false(minga_config_known("broker/heartbeat"));
    assert_false(minga_config_known("nope/x"));
    size_t n;
    const minga_cfg_t *t = minga_curve_config_table(MINGA_CURVE_BROKER, &n);
    minga_curve_t c;
    minga_curve_init(&c);
    char err[256];
    const char *yes[] = {"1", "on", "yes", "true"}, *no[] = {"0", "off", "no", "false"};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(minga_config_set(&t[0], &c, no[i], err, sizeof err), 0);
        assert_int_equal(c.enabled, 0);
        assert_int_equal(minga_config_set(&t[0], &c, yes[i], err, sizeof err), 0);
        assert_int_equal(c.enabled, 1);
    }
    assert_int_equal(minga_config_set(&t[0], &c, "2", err, sizeof err), MINGA_EINVAL);
    assert_non_null(strstr(err, "curve/enabled"));
    /* the example file: the loader with no table of its own knows every key */
    char file[512];
    snprintf(file, sizeof file, "%s/deploy/minga.cfg.example", MINGA_SOURCE_DIR);
    assert_int_equal(minga_config_load(file, t, 0, &c, err, sizeof err), 0);
    /* --set: applied after the file, to the tables that hold the key */
    assert_int_equal(minga_config_override("curve/nope=1", err, sizeof err), MINGA_EINVAL);
    assert_non_null(strstr(err, "curve/nope"));
    assert_int_equal(minga_config_override("curve/enabled", err, sizeof err), MINGA_EINVAL);
    assert_int_equal(minga_config_override("curve/enabled=off", err, sizeof err), 0);
    assert_int_equal(minga_config_override("curve/client_certs=/etc/x", err, sizeof err), 0);
    assert_int_equal(minga_config_load(file, t, n, &c, err, sizeof err), 0);
    assert_int_equal(c.enabled, 0);
    assert_string_equal(c.client_certs, "/etc/x");
    assert_int_equal(minga_config_override("curve/enabled=perhaps", err, sizeof err), 0);
    assert_int_equal(minga_config_load(file, t, n, &c, err, sizeof err), MINGA_EINVAL);
    assert_non_null(strstr(err, "--set curve/enabled: 'perhaps'"));
    minga_curve_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keygen),
        cmocka_unit_test(test_client_settings),
        cmocka_unit_test(test_domains),
        cmocka_unit_test(test_config_keys),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
