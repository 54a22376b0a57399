/* test_console.c: the console's users file, the authentication gate, roles, CSRF, the login
 * rate limit, the officers' hold journaled through the rules, and the API's answers, over real
 * HTTP on a loopback port (the client runs in its own thread; the server on the main loop). */
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>

#include "../video/camsupport.h"
#include "console.h"
#include "ptz.h"
#include "testutil.h"
#include "wall.h"

#define C "PSTU2001016"

typedef struct {
    guint status;
    char *body;
    char *cookie;   /* Set-Cookie */
    char *location;
} Reply;

typedef struct {
    guint port;
    char *tok_viewer, *tok_officer;
    GMainLoop *loop;
    /* results */
    Reply healthz, anon_api, anon_page, anon_static, viewer_post, viewer_get;
    Reply login_op, op_no_csrf, op_csrf, op_me;
    Reply hold, container, decisions, metrics, deadletters, calls;
    Reply bad_login[5], limited;
    Reply preset_viewer, preset_no_csrf, preset_ok, preset_unknown;
} Run;

/* The status that each request of test_api's client must get. */
static const struct {
    const char *name;
    size_t offset; /* of the Reply in Run */
    guint status;
} api_statuses[] = {
    {"healthz", offsetof(Run, healthz), 200},
    {"anon_api", offsetof(Run, anon_api), 401},
    {"anon_static", offsetof(Run, anon_static), 303},
    {"anon_page", offsetof(Run, anon_page), 303},
    {"viewer_post", offsetof(Run, viewer_post), 403},
    {"viewer_get", offsetof(Run, viewer_get), 200},
    {"login_op", offsetof(Run, login_op), 200},
    {"op_no_csrf", offsetof(Run, op_no_csrf), 403},
    {"op_csrf", offsetof(Run, op_csrf), 200},
    {"hold", offsetof(Run, hold), 200},
    {"container", offsetof(Run, container), 200},
    {"deadletters", offsetof(Run, deadletters), 200},
    {"preset_viewer", offsetof(Run, preset_viewer), 403},
    {"preset_no_csrf", offsetof(Run, preset_no_csrf), 403},
    {"preset_unknown", offsetof(Run, preset_unknown), 404},
    {"preset_ok", offsetof(Run, preset_ok), 200},
    {"limited", offsetof(Run, limited), 429},
};

static void reply_clear(Reply *r)
{
    g_free(r->body);
    g_free(r->cookie);
    g_free(r->location);
}

static Reply http(Run *run, SoupSession *s, const char *method, const char *path,
                  const char *body, const char *token, const char *cookie, const char *csrf)
{
    g_autofree char *url = g_strdup_printf("http://127.0.0.1:%u%s", run->port, path);
    SoupMessage *m = soup_message_new(method, url);
    soup_message_add_flags(m, SOUP_MESSAGE_NO_REDIRECT);
    SoupMessageHeaders *h = soup_message_get_request_headers(m);
    if (token) {
        g_autofree char *a = g_strdup_printf("Bearer %s", token);
        soup_message_headers_replace(h, "Authorization", a);
    }
    if (cookie)
        soup_message_headers_replace(h, "Cookie", cookie);
    if (csrf)
        soup_message_headers_replace(h, "X-CSRF-Token", csrf);
    if (body) {
        GBytes *b = g_bytes_new(body, strlen(body));
        soup_message_set_request_body_from_bytes(m, "application/json", b);
        g_bytes_unref(b);
    }
    GError *error = NULL;
    GBytes *out = soup_session_send_and_read(s, m, NULL, &error);
    Reply r = {0};
    r.status = soup_message_get_status(m);
    if (out) {
        r.body = g_strndup(g_bytes_get_data(out, NULL), g_bytes_get_size(out));
        g_bytes_unref(out);
    }
    g_clear_error(&error);
    SoupMessageHeaders *rh = soup_message_get_response_headers(m);
    r.cookie = g_strdup(soup_message_headers_get_one(rh, "Set-Cookie"));
    r.location = g_strdup(soup_message_headers_get_one(rh, "Location"));
    g_object_unref(m);
    return r;
}

static char *member(const char *json, const char *name)
{
    g_autoptr(JsonParser) p = json_parser_new();
    if (!json || !json_parser_load_from_data(p, json, -1, NULL))
        return NULL;
    return g_strdup(json_object_get_string_member_with_default(
        json_node_get_object(json_parser_get_root(p)), name, NULL));
}

static gpointer client(gpointer data)
{
    Run *run = data;
    SoupSession *s = soup_session_new_with_options("timeout", 10, NULL);
    run->healthz = http(run, s, "GET", "/healthz", NULL, NULL, NULL, NULL);
    run->anon_api = http(run, s, "GET", "/api/decisions", NULL, NULL, NULL, NULL);
    run->anon_static = http(run, s, "GET", "/assets/wall.js", NULL, NULL, NULL, NULL);
    run->viewer_post = http(run, s, "POST", "/api/select", "{\"clear\":true}", run->tok_viewer,
                            NULL, NULL);
    run->viewer_get = http(run, s, "GET", "/api/decisions?since=0", NULL, run->tok_viewer, NULL,
                           NULL);
    run->login_op = http(run, s, "POST", "/api/login",
                         "{\"user\":\"opal\",\"password\":\"opal-password\"}", NULL, NULL, NULL);
    g_autofree char *cookie = run->login_op.cookie
                                  ? g_strndup(run->login_op.cookie,
                                              strcspn(run->login_op.cookie, ";"))
                                  : NULL;
    g_autofree char *csrf = member(run->login_op.body, "csrf");
    run->op_no_csrf = http(run, s, "POST", "/api/select", "{\"clear\":true}", NULL, cookie,
                           NULL);
    run->op_csrf = http(run, s, "POST", "/api/select", "{\"clear\":true}", NULL, cookie, csrf);
    run->op_me = http(run, s, "GET", "/api/me", NULL, NULL, cookie, NULL);
    const char *gate = "{\"camera\":\"ptz1\",\"preset\":\"gate\"}";
    run->preset_viewer = http(run, s, "POST", "/api/ptz/preset", gate, run->tok_viewer, NULL,
                              NULL);
    run->preset_no_csrf = http(run, s, "POST", "/api/ptz/preset", gate, NULL, cookie, NULL);
    run->preset_unknown = http(run, s, "POST", "/api/ptz/preset",
                               "{\"camera\":\"ptz1\",\"preset\":\"berth\"}", NULL, cookie,
                               csrf);
    run->preset_ok = http(run, s, "POST", "/api/ptz/preset", gate, NULL, cookie, csrf);
    run->hold = http(run, s, "POST", "/api/hold",
                     "{\"container\":\"" C "\",\"reason\":\"x-ray anomaly\"}", run->tok_officer,
                     NULL, NULL);
    run->container = http(run, s, "GET", "/api/containers/" C, NULL, run->tok_officer, NULL,
                          NULL);
    run->decisions = http(run, s, "GET", "/api/decisions?since=0", NULL, run->tok_officer, NULL,
                          NULL);
    run->metrics = http(run, s, "GET", "/metrics", NULL, run->tok_viewer, NULL, NULL);
    run->deadletters = http(run, s, "GET", "/api/deadletters", NULL, run->tok_viewer, NULL,
                            NULL);
    run->calls = http(run, s, "GET", "/api/vessels/calls?name=nobody", NULL, run->tok_viewer,
                      NULL, NULL);
    for (guint i = 0; i < G_N_ELEMENTS(run->bad_login); i++)
        run->bad_login[i] = http(run, s, "POST", "/api/login",
                                 "{\"user\":\"olga\",\"password\":\"guess\"}", NULL, NULL, NULL);
    /* The right password now: still refused, the limit holds. */
    run->limited = http(run, s, "POST", "/api/login",
                        "{\"user\":\"olga\",\"password\":\"olga-password\"}", NULL, NULL, NULL);
    g_object_unref(s);
    /* A client that does not follow redirects for the page check. */
    SoupSession *s2 = soup_session_new();
    g_autofree char *url = g_strdup_printf("http://127.0.0.1:%u/vessel?q=x", run->port);
    SoupMessage *m = soup_message_new("GET", url);
    soup_message_add_flags(m, SOUP_MESSAGE_NO_REDIRECT);
    GBytes *b = soup_session_send_and_read(s2, m, NULL, NULL);
    if (b)
        g_bytes_unref(b);
    run->anon_page.status = soup_message_get_status(m);
    run->anon_page.location = g_strdup(
        soup_message_headers_get_one(soup_message_get_response_headers(m), "Location"));
    g_object_unref(m);
    g_object_unref(s2);
    g_main_loop_quit(run->loop);
    return NULL;
}

static void ingest(PsRules *r, const char *topic, const char *payload)
{
    RulesIngestResult res = {0};
    GError *error = NULL;
    ck_assert(rules_ingest(r, topic, payload, -1, &res, &error));
    ck_assert_no_error(error);
    ck_assert_int_eq(res.outcome, RULES_ACCEPTED);
    rules_ingest_result_clear(&res);
}

START_TEST(test_users_file)
{
    g_autofree char *dir = testutil_tmpdir();
    g_autofree char *path = g_build_filename(dir, "users.ini", NULL);
    GError *error = NULL;
    g_autofree char *token = console_user_add(path, "olga", CONSOLE_ROLE_OFFICER,
                                              "correct horse", &error);
    ck_assert_no_error(error);
    ck_assert_uint_eq(strlen(token), 64);
    struct stat st;
    ck_assert_int_eq(g_stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    g_autofree char *text = NULL;
    ck_assert(g_file_get_contents(path, &text, NULL, NULL));
    /* Neither the password nor the token is kept: a salted yescrypt hash, a token digest. */
    ck_assert_ptr_null(strstr(text, "correct horse"));
    ck_assert_ptr_null(strstr(text, token));
    ck_assert_ptr_nonnull(strstr(text, "password=$y$"));
    g_autofree char *digest = g_compute_checksum_for_string(G_CHECKSUM_SHA256, token, -1);
    ck_assert_ptr_nonnull(strstr(text, digest));
    /* The same password twice gives two hashes (a fresh salt each time). */
    g_autofree char *t2 = console_user_add(path, "olga", CONSOLE_ROLE_OFFICER, "correct horse",
                                           &error);
    ck_assert_ptr_nonnull(t2);
    g_autofree char *text2 = NULL;
    ck_assert(g_file_get_contents(path, &text2, NULL, NULL));
    char *h1 = strstr(text, "$y$"), *h2 = strstr(text2, "$y$");
    ck_assert(strncmp(h1, h2, strcspn(h1, "\n")) != 0);
    /* Bad names are refused. */
    ck_assert_ptr_null(console_user_add(path, "a b", CONSOLE_ROLE_VIEWER, "x", &error));
    ck_assert_ptr_nonnull(error);
    g_clear_error(&error);
    testutil_rmtree(dir);
}
END_TEST

static gboolean preset_cb(gpointer data, const char *camera, const char *preset, double out[3],
                          GError **error)
{
    return ptz_set_goto_preset(data, camera, preset, out, error);
}

START_TEST(test_gate_roles_csrf_limit_and_api)
{
    /* The PTZ: a loopback ONVIF endpoint that keeps the requests it gets. */
    static const OnvifAnswer ok = {200, "<ok/>"};
    Http *onvif = camsupport_onvif_start(&ok);
    g_autofree char *onvif_url =
        g_strdup_printf("http://127.0.0.1:%d/onvif/ptz_service", onvif->port);
    PtzSet *ptz = ptz_set_new();
    PtzDevice dev = {onvif_url, "prof_1", NULL, NULL, 5};
    PtzMount mount = {0, 0, 30, 0, 180, 90, 0, 0, 0};
    ptz_set_add(ptz, "ptz1", &dev, &mount);
    GError *perr = NULL;
    ck_assert(ptz_set_presets(ptz, "ptz1", "gate:0.25,-0.1,0.5; quay: -0.5, -0.2, 0", &perr));
    ck_assert_no_error(perr);

    g_autofree char *dir = testutil_tmpdir();
    g_autofree char *users = g_build_filename(dir, "users.ini", NULL);
    Run run = {0};
    GError *error = NULL;
    run.tok_viewer = console_user_add(users, "vic", CONSOLE_ROLE_VIEWER, "vic-password", &error);
    g_free(console_user_add(users, "opal", CONSOLE_ROLE_OPERATOR, "opal-password", &error));
    run.tok_officer = console_user_add(users, "olga", CONSOLE_ROLE_OFFICER, "olga-password",
                                       &error);
    ck_assert_no_error(error);
    PsStore *store = store_open(":memory:", &error);
    PsRules *rules = rules_new(store, "port", &error);
    ck_assert_no_error(error);
    /* A container released by the rules: declaration, train, radiation clear, rail gate-in. */
    ingest(rules, "port/customs/status",
           "{\"id\":\"c1\",\"ts\":\"2026-11-26T08:00:00Z\",\"declaration\":\"D-1\","
           "\"status\":\"released\",\"containers\":[\"" C "\"],\"flow\":\"rail-sea\"}");
    ingest(rules, "port/rail/Y1/arrival",
           "{\"id\":\"a1\",\"ts\":\"2026-11-26T08:10:00Z\",\"yard\":\"Y1\",\"train\":\"T-1\","
           "\"wagons\":[{\"wagon\":\"W1\",\"containers\":[\"" C "\"]}]}");
    ingest(rules, "port/radiation/RP1",
           "{\"id\":\"r1\",\"ts\":\"2026-11-26T08:11:00Z\",\"portal\":\"RP1\","
           "\"container\":\"" C "\",\"result\":\"clear\"}");
    ingest(rules, "port/gate/RG1",
           "{\"id\":\"g1\",\"ts\":\"2026-11-26T08:12:00Z\",\"gate\":\"RG1\",\"direction\":\"in\","
           "\"mode\":\"rail\",\"container\":\"" C "\"}");
    ConsoleConfig cc = {.listen = "127.0.0.1:0", .users = users, .topic_root = "port",
                        .store = store, .rules = &rules,
                        .engine = {.data = ptz, .ptz_preset = preset_cb}};
    PsConsole *console = console_new(&cc, &error);
    ck_assert_no_error(error);
    run.port = console_port(console);
    ck_assert_uint_gt(run.port, 0);
    run.loop = g_main_loop_new(NULL, FALSE);
    GThread *t = g_thread_new("client", client, &run);
    g_main_loop_run(run.loop);
    g_thread_join(t);

    for (size_t i = 0; i < G_N_ELEMENTS(api_statuses); i++) {
        const Reply *r = (const Reply *)((const char *)&run + api_statuses[i].offset);
        ck_assert_msg(r->status == api_statuses[i].status, "%s: status %u, expected %u",
                      api_statuses[i].name, r->status, api_statuses[i].status);
    }
    ck_assert_ptr_nonnull(strstr(run.healthz.body, "\"status\":\"ok\""));
    ck_assert(g_str_has_suffix(run.anon_page.location, "/login?next=/vessel"));
    /* The session cookie: HttpOnly, SameSite=Strict. */
    ck_assert_ptr_nonnull(run.login_op.cookie);
    ck_assert_ptr_nonnull(strstr(run.login_op.cookie, "HttpOnly"));
    ck_assert_ptr_nonnull(strstr(run.login_op.cookie, "SameSite=Strict"));
    /* A state change with the cookie needs the session's CSRF token. */
    ck_assert_ptr_nonnull(strstr(run.op_me.body, "\"role\":\"operator\""));
    /* The officer's hold: journaled with the officer, decided by the rules, in the API. */
    g_autofree char *now = rules_describe(rules, C);
    ck_assert_ptr_nonnull(strstr(now, "officer hold: x-ray anomaly (by olga)"));
    ck_assert_ptr_nonnull(strstr(run.container.body, "\"verdict\":\"hold\""));
    ck_assert_ptr_nonnull(strstr(run.container.body, "no_officer_hold"));
    ck_assert_ptr_nonnull(strstr(run.decisions.body, "\"kind\":\"release\""));
    ck_assert_ptr_nonnull(strstr(run.decisions.body, "officer hold: x-ray anomaly (by olga)"));
    ck_assert_ptr_nonnull(strstr(run.metrics.body, "portsight_decisions_total{kind=\"hold\"} 1"));
    ck_assert_ptr_nonnull(strstr(run.metrics.body, "portsight_inputs_total{topic=\"cmd/override\"} 1"));
    /* Two decisions (the release at the gate, the officer's hold), each made in the call that
     * journaled its input: well under a second from journal to decision. */
    ck_assert_ptr_nonnull(strstr(run.metrics.body,
                                 "# TYPE portsight_decision_latency_seconds histogram\n"));
    ck_assert_ptr_nonnull(strstr(run.metrics.body,
                                 "portsight_decision_latency_seconds_bucket{le=\"0.001\"} "));
    ck_assert_ptr_nonnull(strstr(run.metrics.body,
                                 "portsight_decision_latency_seconds_bucket{le=\"1\"} 2\n"));
    ck_assert_ptr_nonnull(strstr(run.metrics.body,
                                 "portsight_decision_latency_seconds_bucket{le=\"+Inf\"} 2\n"));
    ck_assert_ptr_nonnull(strstr(run.metrics.body, "portsight_decision_latency_seconds_sum 0."));
    ck_assert_ptr_nonnull(strstr(run.metrics.body,
                                 "portsight_decision_latency_seconds_count 2\n"));
    ck_assert_ptr_nonnull(strstr(run.calls.body, "\"vessels\":[]"));
    /* PTZ presets: operators only, CSRF with a cookie; the preset's AbsoluteMove is sent. */
    ck_assert_ptr_nonnull(strstr(run.preset_unknown.body, "no preset 'berth'"));
    ck_assert_ptr_nonnull(strstr(run.preset_ok.body, "\"zoom\":0.5"));
    ptz_set_free(ptz); /* waits for the move */
    g_autofree char *req = http_request_text(onvif, 0, 10);
    ck_assert_msg(strstr(req, "<tptz:AbsoluteMove><tptz:ProfileToken>prof_1</tptz:ProfileToken>"
                              "<tptz:Position><tt:PanTilt x=\"0.2500\" y=\"-0.1000\"/>"
                              "<tt:Zoom x=\"0.5000\"/>"),
                  "%s", req);
    http_free(onvif);
    /* The login rate limit: five failures, then even the right password waits. */
    for (guint i = 0; i < G_N_ELEMENTS(run.bad_login); i++)
        ck_assert_uint_eq(run.bad_login[i].status, 401);

    Reply *all[] = {&run.healthz, &run.anon_api, &run.anon_page, &run.anon_static,
                    &run.viewer_post, &run.viewer_get, &run.login_op, &run.op_no_csrf,
                    &run.op_csrf, &run.op_me, &run.hold, &run.container, &run.decisions,
                    &run.metrics, &run.deadletters, &run.calls, &run.limited,
                    &run.preset_viewer, &run.preset_no_csrf, &run.preset_ok,
                    &run.preset_unknown};
    for (guint i = 0; i < G_N_ELEMENTS(all); i++)
        reply_clear(all[i]);
    for (guint i = 0; i < G_N_ELEMENTS(run.bad_login); i++)
        reply_clear(&run.bad_login[i]);
    g_main_loop_unref(run.loop);
    console_free(console);
    rules_free(rules);
    store_close(store);
    g_free(run.tok_viewer);
    g_free(run.tok_officer);
    testutil_rmtree(dir);
}
END_TEST


/* ---- each camera's own stream ---- */

/* A browser's WebRTC offer (recvonly H.264, constrained baseline, packetization-mode 1), as
 * Chromium writes one; nobody connects to its candidates: only the SDP answer is checked. */
static const char *offer =
    "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
    "a=group:BUNDLE 0\r\na=msid-semantic: WMS\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 102\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:Xq3w\r\na=ice-pwd:0123456789abcdefghijklmn\r\na=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 6B:8B:5D:EA:59:04:20:23:29:C8:87:1C:CC:87:32:BE:DD:8C:66:A5:8E:50:"
    "55:EA:8C:D3:B6:5C:09:5E:D6:BC\r\n"
    "a=setup:actpass\r\na=mid:0\r\na=recvonly\r\na=rtcp-mux\r\na=rtpmap:102 H264/90000\r\n"
    "a=rtcp-fb:102 nack\r\na=rtcp-fb:102 nack pli\r\n"
    "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n";

typedef struct {
    guint port;
    char *token;
    GMainLoop *loop;
    Reply cameras, whep_cam, whep_unknown, whep_wall;
    /* MSE over a WebSocket: what a camera's stream sent first, and the close of an unknown */
    char *mse_mime;
    gboolean mse_ftyp;
    guint mse_binary;
    char *mse_unknown_reason;
} StreamRun;

typedef struct {
    StreamRun *run;
    GMainLoop *loop;
    SoupWebsocketConnection *ws;
    gboolean unknown;
} WsCtx;

static void ws_message(SoupWebsocketConnection *ws, gint type, GBytes *data, gpointer p)
{
    WsCtx *x = p;
    gsize n = 0;
    const char *d = g_bytes_get_data(data, &n);
    if (type == SOUP_WEBSOCKET_DATA_TEXT && !x->run->mse_mime) {
        x->run->mse_mime = g_strndup(d, n);
    } else if (type == SOUP_WEBSOCKET_DATA_BINARY) {
        if (x->run->mse_binary++ == 0)
            x->run->mse_ftyp = n > 8 && memcmp(d + 4, "ftyp", 4) == 0;
        if (x->run->mse_binary >= 3)
            g_main_loop_quit(x->loop);
    }
}

static void ws_closed(SoupWebsocketConnection *ws, gpointer p)
{
    WsCtx *x = p;
    if (x->unknown)
        x->run->mse_unknown_reason = g_strdup(soup_websocket_connection_get_close_data(ws));
    g_main_loop_quit(x->loop);
}

static void ws_connected(GObject *source, GAsyncResult *res, gpointer p)
{
    WsCtx *x = p;
    x->ws = soup_session_websocket_connect_finish(SOUP_SESSION(source), res, NULL);
    if (!x->ws) {
        g_main_loop_quit(x->loop);
        return;
    }
    g_signal_connect(x->ws, "message", G_CALLBACK(ws_message), x);
    g_signal_connect(x->ws, "closed", G_CALLBACK(ws_closed), x);
}

static gboolean ws_give_up(gpointer p)
{
    g_main_loop_quit(p);
    return G_SOURCE_REMOVE;
}

/* Opens /api/mse/@stream and runs until 3 binary messages came, the socket closed, or 15 s. */
static void mse_watch(StreamRun *run, const char *stream, gboolean unknown)
{
    GMainContext *ctx = g_main_context_new();
    g_main_context_push_thread_default(ctx);
    SoupSession *s = soup_session_new_with_options("timeout", 20, NULL);
    g_autofree char *url = g_strdup_printf("ws://127.0.0.1:%u/api/mse/%s", run->port, stream);
    SoupMessage *m = soup_message_new("GET", url);
    g_autofree char *a = g_strdup_printf("Bearer %s", run->token);
    soup_message_headers_replace(soup_message_get_request_headers(m), "Authorization", a);
    WsCtx x = {run, g_main_loop_new(ctx, FALSE), NULL, unknown};
    soup_session_websocket_connect_async(s, m, NULL, NULL, G_PRIORITY_DEFAULT, NULL,
                                         ws_connected, &x);
    GSource *t = g_timeout_source_new_seconds(15);
    g_source_set_callback(t, ws_give_up, x.loop, NULL);
    g_source_attach(t, ctx);
    g_main_loop_run(x.loop);
    g_source_destroy(t);
    g_source_unref(t);
    if (x.ws) {
        g_signal_handlers_disconnect_by_data(x.ws, &x);
        g_object_unref(x.ws);
    }
    g_main_loop_unref(x.loop);
    g_object_unref(m);
    g_object_unref(s);
    g_main_context_pop_thread_default(ctx);
    g_main_context_unref(ctx);
}

static Reply post_sdp(guint port, SoupSession *s, const char *path, const char *token)
{
    g_autofree char *url = g_strdup_printf("http://127.0.0.1:%u%s", port, path);
    SoupMessage *m = soup_message_new("POST", url);
    g_autofree char *a = g_strdup_printf("Bearer %s", token);
    soup_message_headers_replace(soup_message_get_request_headers(m), "Authorization", a);
    GBytes *b = g_bytes_new_static(offer, strlen(offer));
    soup_message_set_request_body_from_bytes(m, "application/sdp", b);
    g_bytes_unref(b);
    GBytes *out = soup_session_send_and_read(s, m, NULL, NULL);
    Reply r = {0};
    r.status = soup_message_get_status(m);
    if (out) {
        r.body = g_strndup(g_bytes_get_data(out, NULL), g_bytes_get_size(out));
        g_bytes_unref(out);
    }
    r.location = g_strdup(
        soup_message_headers_get_one(soup_message_get_response_headers(m), "Location"));
    g_object_unref(m);
    return r;
}

static gpointer stream_client(gpointer data)
{
    StreamRun *run = data;
    SoupSession *s = soup_session_new_with_options("timeout", 20, NULL);
    Run r = {.port = run->port};
    run->cameras = http(&r, s, "GET", "/api/cameras", NULL, run->token, NULL, NULL);
    run->whep_cam = post_sdp(run->port, s, "/api/whep/gate-3", run->token);
    run->whep_unknown = post_sdp(run->port, s, "/api/whep/gate-9", run->token);
    run->whep_wall = post_sdp(run->port, s, "/api/whep/wall", run->token);
    g_object_unref(s);
    mse_watch(run, "gate-3", FALSE);
    mse_watch(run, "gate-9", TRUE);
    g_main_loop_quit(run->loop);
    return NULL;
}

static gboolean presets_cb(gpointer data, const char *camera, GArray *out)
{
    g_autoptr(GArray) list = g_array_new(FALSE, FALSE, sizeof(PtzPreset));
    if (!ptz_set_list_presets(data, camera, list))
        return FALSE;
    for (guint i = 0; i < list->len; i++) {
        const PtzPreset *p = &g_array_index(list, PtzPreset, i);
        ConsolePreset cp = {"", p->pos[0], p->pos[1], p->pos[2]};
        g_strlcpy(cp.name, p->name, sizeof cp.name);
        g_array_append_val(out, cp);
    }
    return TRUE;
}

/* gate-3's camera: a grey 640x360 frame every 40 ms, as a camera pipeline hands them over. */
static gboolean push_gate_frame(gpointer wall)
{
    static const int w = 640, h = 360;
    GstBuffer *buf = gst_buffer_new_allocate(NULL, (gsize)w * h * 4, NULL);
    gst_buffer_memset(buf, 0, 0x80, (gsize)w * h * 4);
    GstCaps *caps = gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING, "BGRx", "width",
                                        G_TYPE_INT, w, "height", G_TYPE_INT, h, "framerate",
                                        GST_TYPE_FRACTION, 25, 1, NULL);
    GstSample *sample = gst_sample_new(buf, caps, NULL, NULL);
    wall_push(wall, "gate-3", sample);
    gst_sample_unref(sample);
    gst_caps_unref(caps);
    gst_buffer_unref(buf);
    return G_SOURCE_CONTINUE;
}

START_TEST(test_each_camera_has_its_own_stream_and_its_presets_listed)
{
    gst_init(NULL, NULL);
    PtzSet *ptz = ptz_set_new();
    PtzDevice dev = {"http://127.0.0.1:9/onvif/ptz_service", "p", NULL, NULL, 1};
    PtzMount mount = {0, 0, 30, 0, 180, 90, 0, 0, 0};
    ptz_set_add(ptz, "ptz-1", &dev, &mount);
    GError *error = NULL;
    ck_assert(ptz_set_presets(ptz, "ptz-1", "gate:0.25,-0.1,0.5; quay:-0.5,-0.2,0", &error));
    WallConfig wc;
    wall_config_init(&wc);
    wc.width = 640;
    wc.height = 360;
    wc.fps = 10;
    const char *const cams[] = {"gate-3", "ptz-1", NULL};
    PsWall *wall = wall_new(&wc, cams, &error);
    ck_assert_no_error(error);
    ck_assert(wall_start(wall, &error));
    g_autofree char *dir = testutil_tmpdir();
    g_autofree char *users = g_build_filename(dir, "users.ini", NULL);
    StreamRun run = {0};
    run.token = console_user_add(users, "vic", CONSOLE_ROLE_VIEWER, "vic-password", &error);
    ck_assert_no_error(error);
    PsStore *store = store_open(":memory:", &error);
    ck_assert_no_error(error);
    ConsoleConfig cc = {.listen = "127.0.0.1:0", .users = users, .topic_root = "port",
                        .store = store,
                        .engine = {.data = ptz, .wall = wall, .ptz_presets = presets_cb}};
    PsConsole *console = console_new(&cc, &error);
    ck_assert_no_error(error);
    run.port = console_port(console);
    run.loop = g_main_loop_new(NULL, FALSE);
    guint frames = g_timeout_add(40, push_gate_frame, wall);
    GThread *t = g_thread_new("client", stream_client, &run);
    g_main_loop_run(run.loop);
    g_thread_join(t);
    g_source_remove(frames);

    /* The camera list: the streams, and the PTZ's presets. */
    ck_assert_uint_eq(run.cameras.status, 200);
    ck_assert_msg(strstr(run.cameras.body, "\"streams\":[\"wall\",\"gate-3\",\"ptz-1\"]"), "%s",
                  run.cameras.body);
    ck_assert_msg(strstr(run.cameras.body,
                         "\"name\":\"ptz-1\",\"title\":null,\"state\":null,\"tile\":1,"
                         "\"stream\":true,\"ptz\":true,\"presets\":[{\"name\":\"gate\","
                         "\"pan\":0.25,\"tilt\":-0.10000000000000001,\"zoom\":0.5},"
                         "{\"name\":\"quay\""),
                  "%s", run.cameras.body);
    ck_assert_msg(strstr(run.cameras.body, "\"name\":\"gate-3\",\"title\":null,\"state\":null,"
                                           "\"tile\":0,\"stream\":true,\"ptz\":false,"
                                           "\"presets\":[]"),
                  "%s", run.cameras.body);
    /* WHEP for a camera: an SDP answer (sendonly H.264 on the offer's payload type), a
     * resource to DELETE; an unknown camera is 404 naming it. */
    ck_assert_msg(run.whep_cam.status == 201, "%u %s", run.whep_cam.status, run.whep_cam.body);
    ck_assert(g_str_has_prefix(run.whep_cam.body, "v=0\r\n"));
    ck_assert_msg(strstr(run.whep_cam.body, "m=video") &&
                      strstr(run.whep_cam.body, "a=rtpmap:102 H264/90000") &&
                      strstr(run.whep_cam.body, "a=sendonly"),
                  "%s", run.whep_cam.body);
    ck_assert(run.whep_cam.location && g_str_has_prefix(run.whep_cam.location, "/api/whep/"));
    ck_assert_uint_eq(run.whep_unknown.status, 404);
    ck_assert_msg(strstr(run.whep_unknown.body, "no camera 'gate-9'") &&
                      strstr(run.whep_unknown.body, "gate-3, ptz-1"),
                  "%s", run.whep_unknown.body);
    ck_assert_uint_eq(run.whep_wall.status, 201);
    /* MSE for a camera: the MIME type, then fragmented MP4 from its own encoder (the init
     * segment first); an unknown camera: the socket closed with the reason. */
    ck_assert_msg(run.mse_mime && strstr(run.mse_mime, "video/mp4"), "%s",
                  run.mse_mime ? run.mse_mime : "no text message");
    ck_assert_msg(run.mse_binary >= 3 && run.mse_ftyp, "%u binary messages, ftyp %d",
                  run.mse_binary, run.mse_ftyp);
    ck_assert_msg(run.mse_unknown_reason && strstr(run.mse_unknown_reason, "no camera 'gate-9'"),
                  "%s", run.mse_unknown_reason ? run.mse_unknown_reason : "not closed");
    g_free(run.mse_mime);
    g_free(run.mse_unknown_reason);

    Reply *all[] = {&run.cameras, &run.whep_cam, &run.whep_unknown, &run.whep_wall};
    for (guint i = 0; i < G_N_ELEMENTS(all); i++)
        reply_clear(all[i]);
    g_main_loop_unref(run.loop);
    console_free(console);
    wall_free(wall);
    ptz_set_free(ptz);
    store_close(store);
    g_free(run.token);
    testutil_rmtree(dir);
}
END_TEST

static const TestutilTest tests[] = {
    {&test_users_file},
    {&test_gate_roles_csrf_limit_and_api},
    {&test_each_camera_has_its_own_stream_and_its_presets_listed},
};

TESTUTIL_MAIN("console", "core", 60, TESTUTIL_TESTS(tests))
