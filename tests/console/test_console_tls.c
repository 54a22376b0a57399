/* test_console_tls.c: [http] tls_cert/tls_key: the console answers over HTTPS only, and its
 * session cookie is marked Secure. Exits 77 when openssl(1) (to make a throwaway certificate)
 * is missing. */
#include <libsoup/soup.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "console.h"
#include "testutil.h"

typedef struct {
    guint port;
    GMainLoop *loop;
    guint https_status, http_status;
    char *cookie;
} Run;

static gboolean accept_any(SoupMessage *m, GTlsCertificate *cert, GTlsCertificateFlags errors,
                           gpointer data)
{
    return TRUE; /* the throwaway self-signed certificate */
}

static guint get(SoupSession *s, const char *url, const char *method, const char *body,
                 char **cookie)
{
    SoupMessage *m = soup_message_new(method, url);
    g_signal_connect(m, "accept-certificate", G_CALLBACK(accept_any), NULL);
    if (body) {
        GBytes *b = g_bytes_new(body, strlen(body));
        soup_message_set_request_body_from_bytes(m, "application/json", b);
        g_bytes_unref(b);
    }
    GBytes *out = soup_session_send_and_read(s, m, NULL, NULL);
    if (out)
        g_bytes_unref(out);
    if (cookie)
        *cookie = g_strdup(soup_message_headers_get_one(soup_message_get_response_headers(m),
                                                        "Set-Cookie"));
    guint status = soup_message_get_status(m);
    g_object_unref(m);
    return status;
}

static gpointer client(gpointer data)
{
    Run *run = data;
    SoupSession *s = soup_session_new_with_options("timeout", 10, NULL);
    g_autofree char *https = g_strdup_printf("https://127.0.0.1:%u/healthz", run->port);
    g_autofree char *http = g_strdup_printf("http://127.0.0.1:%u/healthz", run->port);
    g_autofree char *login = g_strdup_printf("https://127.0.0.1:%u/api/login", run->port);
    run->https_status = get(s, https, "GET", NULL, NULL);
    run->http_status = get(s, http, "GET", NULL, NULL);
    get(s, login, "POST", "{\"user\":\"vic\",\"password\":\"vic-password\"}", &run->cookie);
    g_object_unref(s);
    g_main_loop_quit(run->loop);
    return NULL;
}

START_TEST(test_https)
{
    g_autofree char *cert = testutil_tmp_path("cert.pem");
    g_autofree char *key = testutil_tmp_path("key.pem");
    g_autofree char *users = testutil_tmp_path("users.ini");
    g_autofree char *cmd = g_strdup_printf(
        "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
        "-keyout '%s' -out '%s' 2>/dev/null", key, cert);
    ck_assert_int_eq(system(cmd), 0);
    GError *error = NULL;
    g_free(console_user_add(users, "vic", CONSOLE_ROLE_VIEWER, "vic-password", &error));
    PsStore *store = store_open(":memory:", &error);
    PsRules *rules = rules_new(store, "port", &error);
    ck_assert_no_error(error);
    ConsoleConfig cc = {.listen = "127.0.0.1:0", .tls_cert = cert, .tls_key = key,
                        .users = users, .store = store, .rules = &rules};
    PsConsole *console = console_new(&cc, &error);
    ck_assert_no_error(error);
    Run run = {console_port(console), g_main_loop_new(NULL, FALSE), 0, 0, NULL};
    GThread *t = g_thread_new("client", client, &run);
    g_main_loop_run(run.loop);
    g_thread_join(t);
    ck_assert_uint_eq(run.https_status, 200);
    ck_assert_uint_ne(run.http_status, 200); /* plain HTTP is not served on a TLS port */
    ck_assert_ptr_nonnull(run.cookie);
    ck_assert_ptr_nonnull(strstr(run.cookie, "; Secure"));
    /* Half a TLS configuration is refused. */
    ConsoleConfig half = {.listen = "127.0.0.1:0", .tls_cert = cert, .store = store};
    ck_assert_ptr_null(console_new(&half, &error));
    ck_assert_ptr_nonnull(error);
    g_clear_error(&error);
    g_free(run.cookie);
    g_main_loop_unref(run.loop);
    console_free(console);
    rules_free(rules);
    store_close(store);
}
END_TEST

static const TestutilTest tests[] = {
    {&test_https},
};

static const TestutilCase tcases[] = {
    {"core", 60, TESTUTIL_TESTS(tests), testutil_tmp_setup, testutil_tmp_teardown},
};

int main(int argc, char **argv)
{
    /* LeakSanitizer's tracer crashes at exit on the dynamic TLS of the GnuTLS module that GIO
     * loads for HTTPS (it reads a garbage DTLS range: "Tracer caught signal 11", gcc 12's
     * libsanitizer with glibc 2.36), and use_tls=0 reports GnuTLS's thread data as leaks. In a
     * sanitizer build this one test therefore runs again with leak checking off; ASan's other
     * checks stay on. */
    const char *asan = g_getenv("ASAN_OPTIONS");
    if (argc > 0 && asan && strstr(asan, "detect_leaks=1") && !strstr(asan, ":detect_leaks=0")) {
        g_autofree char *opts = g_strconcat(asan, ":detect_leaks=0", NULL);
        g_setenv("ASAN_OPTIONS", opts, TRUE);
        execv("/proc/self/exe", argv);
        perror("re-running with ASAN_OPTIONS detect_leaks=0");
        return 1;
    }
    g_autofree char *openssl = g_find_program_in_path("openssl");
    if (!openssl) {
        printf("SKIP: openssl(1) is needed to make a test certificate\n");
        return 77;
    }
    return testutil_run_cases("console-tls", tcases, G_N_ELEMENTS(tcases));
}
