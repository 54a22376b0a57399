/* test_config.c: the GKeyFile loader names the place of every mistake. */
#include <glib/gstdio.h>
#include <string.h>

#include "config.h"
#include "testutil.h"

static AppConfig *load(const char *text, GError **error)
{
    return app_config_load_data("t.conf", text, strlen(text), error);
}

/* Each row: a config text, and the start of the one error line it must give. */
static const struct {
    const char *text;
    const char *error;
} bad[] = {
    {"[store]\npath = /x.db\n[cameras]\nx = 1\n", "t.conf:3: unknown group [cameras]"},
    {"[store]\npath = /x.db\nflavour = mint\n", "t.conf:3: [store] unknown key 'flavour'"},
    {"[store]\npath = /x.db\n[mqtt]\nurl = tcp://h:1883\nkeepalive = 0\n",
     "t.conf:5: [mqtt] keepalive: 0 is outside 1..3600"},
    {"[store]\npath = /x.db\n[mqtt]\nurl = tcp://h:1883\nkeepalive = soon\n",
     "t.conf:5: [mqtt] keepalive: 'soon' is not a whole number"},
    {"[store]\npath = /x.db\n[mqtt]\nurl = http://h:1883\n",
     "t.conf:4: [mqtt] url: 'http://h:1883' is not one of tcp"},
    {"[store]\npath = /x.db\n[mqtt]\nurl = 127.0.0.1\n",
     "t.conf:4: [mqtt] url: '127.0.0.1' is not a URL"},
    {"[store]\npath = /x.db\n[mqtt]\nclient_id = a\n",
     "t.conf:3: [mqtt] url: required key is missing"},
    {"[store]\npath = /x.db\n[mqtt]\nurl = tcp://h:1\nclean_session = yes\n",
     "t.conf:5: [mqtt] clean_session: 'yes' is not true or false"},
    {"[store]\npath = /x.db\n[mqtt]\nurl = ssl://h:8883\ncafile = /nonexistent/ca.pem\n",
     "t.conf:5: [mqtt] cafile: no such file '/nonexistent/ca.pem'"},
    {"[store]\npath = /x.db\nsync = sometimes\n",
     "t.conf:3: [store] sync: 'sometimes' is not one of full, normal"},
    {"[store]\npath = /x.db\nthis line is not a key\n", "t.conf:3: "},
    {"[mqtt]\nurl = tcp://h:1\n", "t.conf: [store] is missing"},
    {"[store\npath = /x.db\n", "t.conf:1: "},
    /* An uncommented example line with its note: GKeyFile would keep the note in the value. */
    {"[store]\npath = /x.db\n[ais]\nfeed = tcp://127.0.0.1:10110   # or udp://:10110\n",
     "t.conf:4: [ais] feed: 'tcp://127.0.0.1:10110   # or udp://:10110' has a comment in it "
     "(GKeyFile has no inline comments: put '# or udp://:10110' on a line of its own)"},
    {"[store]\npath = /x.db\n[rules]\nrequire_seal = true # customs asked\n",
     "t.conf:4: [rules] require_seal: 'true # customs asked' has a comment in it"},
    /* [engine] role: a node runs only its part, and nodes meet only through the broker */
    {"[engine]\nrole = camera\n[store]\npath = /x.db\n",
     "t.conf:2: [engine] role: 'camera' is not one of all, cameras, decisions, wall"},
    {"[engine]\nrole = cameras\n[store]\npath = /x.db\n[camera a]\nuri = testsrc://ball\n",
     "t.conf:2: [engine] role = cameras needs an [mqtt] group"},
    {"[engine]\nrole = cameras\n[store]\npath = /x.db\n[mqtt]\nurl = tcp://h:1\n",
     "t.conf:2: [engine] role = cameras needs at least one [camera NAME] group"},
    {"[engine]\nrole = cameras\n[store]\npath = /x.db\n[mqtt]\nurl = tcp://h:1\n"
     "[camera a]\nuri = testsrc://ball\n[ais]\nfeed = tcp://h:2\n",
     "t.conf:9: [ais]: [engine] role = cameras does not run it (a decisions node does)"},
    {"[engine]\nrole = decisions\n[store]\npath = /x.db\n[mqtt]\nurl = tcp://h:1\n"
     "[camera a]\nuri = testsrc://ball\n",
     "t.conf:7: [camera a]: [engine] role = decisions does not run it (a cameras node does)"},
    {"[engine]\nrole = wall\n[store]\npath = /x.db\n[mqtt]\nurl = tcp://h:1\n[wall]\n"
     "rtsp_port = 0\n",
     "t.conf:2: [engine] role = wall needs [wall] cameras"},
    {"[engine]\nrole = wall\nname = wall 1\n[store]\npath = /x.db\n[mqtt]\nurl = tcp://h:1\n"
     "[wall]\ncameras = a\n",
     "t.conf:3: [engine] name: 'wall 1' (or [mqtt] client_id when it is not set) is not a node "
     "name"},
    {"[store]\npath = /x.db\n[mqtt]\nurl = tcp://h:1\nfailover = tcp://h:2, h3\n",
     "t.conf:5: [mqtt] failover: 'h3' is not a URL like tcp://host:port"},
};

START_TEST(test_bad_config_gives_one_error_naming_the_place)
{
    GError *error = NULL;
    AppConfig *cfg = load(bad[_i].text, &error);
    ck_assert_ptr_null(cfg);
    ck_assert_ptr_nonnull(error);
    ck_assert_msg(g_str_has_prefix(error->message, bad[_i].error), "row %d: got '%s', want '%s…'",
                  _i, error->message, bad[_i].error);
    ck_assert_ptr_null(strchr(error->message, '\n'));
    g_error_free(error);
}
END_TEST

START_TEST(test_missing_file_names_the_file)
{
    GError *error = NULL;
    ck_assert_ptr_null(app_config_load("/nonexistent/portsight.conf", &error));
    ck_assert_int_eq(error->code, APP_CONFIG_ERROR_IO);
    ck_assert_str_eq(error->message,
                     "/nonexistent/portsight.conf: cannot read: No such file or directory");
    g_error_free(error);
}
END_TEST

START_TEST(test_good_config_gives_values_and_defaults)
{
    GError *error = NULL;
    g_autoptr(AppConfig) cfg = load("# comment\n[store]\npath = /var/lib/p.db\n\n[mqtt]\n"
                                    "url = ssl://broker:8883\nkeepalive = 60\n",
                                    &error);
    ck_assert_no_error(error);
    ck_assert_str_eq(app_config_string(cfg, "store", "path"), "/var/lib/p.db");
    ck_assert_str_eq(app_config_string(cfg, "store", "sync"), "full");
    ck_assert_str_eq(app_config_string(cfg, "mqtt", "topic_root"), "port");
    ck_assert_int_eq(app_config_int(cfg, "mqtt", "keepalive"), 60);
    ck_assert(!app_config_bool(cfg, "mqtt", "clean_session"));
    ck_assert_ptr_null(app_config_string(cfg, "mqtt", "username"));
    ck_assert(app_config_has_group(cfg, "mqtt"));
}
END_TEST

START_TEST(test_shipped_example_config_is_valid)
{
    g_autofree char *path =
        g_build_filename(g_getenv("PS_SOURCE_ROOT"), "deploy", "portsight.conf", NULL);
    GError *error = NULL;
    g_autoptr(AppConfig) cfg = app_config_load(path, &error);
    ck_assert_no_error(error);
    ck_assert_ptr_nonnull(cfg);
}
END_TEST

/* ---- warnings for secrets given away ---- */

static GString *warnings;

static GLogWriterOutput keep_warnings(GLogLevelFlags flags, const GLogField *fields, gsize n,
                                      gpointer user_data)
{
    for (gsize i = 0; i < n; i++)
        if (strcmp(fields[i].key, "MESSAGE") == 0 && (flags & G_LOG_LEVEL_WARNING))
            g_string_append_printf(warnings, "%s\n", (const char *)fields[i].value);
    return G_LOG_WRITER_HANDLED;
}

/* Loads @text from a file of mode @mode; returns the warnings it gave. */
static char *warnings_of(const char *text, int mode)
{
    static gboolean set;
    if (!set)
        g_log_set_writer_func(keep_warnings, NULL, NULL);
    set = TRUE;
    warnings = g_string_new(NULL);
    g_autofree char *tmp = testutil_tmpdir();
    g_autofree char *path = g_build_filename(tmp, "p.conf", NULL);
    ck_assert(g_file_set_contents(path, text, -1, NULL));
    ck_assert_int_eq(g_chmod(path, mode), 0);
    GError *error = NULL;
    AppConfig *cfg = app_config_load(path, &error);
    ck_assert_no_error(error);
    app_config_free(cfg);
    testutil_rmtree(tmp);
    return g_string_free(warnings, FALSE);
}

START_TEST(test_a_world_readable_config_with_a_password_is_warned_about)
{
    const char *tls = "[store]\npath = /x.db\n[mqtt]\nurl = ssl://h:8883\nusername = ps\n"
                      "password = s3cret\n";
    g_autofree char *open644 = warnings_of(tls, 0644);
    ck_assert_msg(strstr(open644, "readable by every local user and holds [mqtt] password"),
                  "%s", open644);
    g_autofree char *closed600 = warnings_of(tls, 0600);
    ck_assert_str_eq(closed600, "");
    g_autofree char *nosecret = warnings_of("[store]\npath = /x.db\n", 0644);
    ck_assert_str_eq(nosecret, "");
}
END_TEST

START_TEST(test_a_password_over_plain_tcp_is_warned_about)
{
    g_autofree char *plain = warnings_of("[store]\npath = /x.db\n[mqtt]\nurl = tcp://h:1883\n"
                                         "username = ps\npassword = s3cret\n", 0600);
    ck_assert_msg(strstr(plain, "[mqtt] password goes over the plain connection tcp://h:1883"),
                  "%s", plain);
    g_autofree char *nopw = warnings_of("[store]\npath = /x.db\n[mqtt]\nurl = tcp://h:1883\n",
                                        0600);
    ck_assert_str_eq(nopw, "");
}
END_TEST

static const TestutilTest tests[] = {
    {&test_bad_config_gives_one_error_naming_the_place, G_N_ELEMENTS(bad)},
    {&test_missing_file_names_the_file},
    {&test_good_config_gives_values_and_defaults},
    {&test_shipped_example_config_is_valid},
    {&test_a_world_readable_config_with_a_password_is_warned_about},
    {&test_a_password_over_plain_tcp_is_warned_about},
};

TESTUTIL_MAIN("config", "load", 0, TESTUTIL_TESTS(tests))
