/* server.c: the console's HTTP server: listening, the authentication gate in front of every
 * path, login/logout, pages and assets, and the WebSocket endpoints. */
#include <stdarg.h>
#include <string.h>

#include "console-private.h"
#include "console-resources.h"

#define COOKIE "ps_session"
#define MAX_BODY (64 * 1024)

static void who_free(gpointer p)
{
    ConsoleWho *w = p;
    g_free(w->user);
    g_free(w);
}

const ConsoleWho *console_who(SoupServerMessage *msg)
{
    return g_object_get_data(G_OBJECT(msg), "ps-who");
}

static void common_headers(SoupServerMessage *msg)
{
    SoupMessageHeaders *h = soup_server_message_get_response_headers(msg);
    soup_message_headers_replace(h, "X-Content-Type-Options", "nosniff");
    soup_message_headers_replace(h, "X-Frame-Options", "DENY");
    soup_message_headers_replace(h, "Referrer-Policy", "same-origin");
    soup_message_headers_replace(h, "Content-Security-Policy",
                                 "default-src 'self'; img-src 'self' data: blob:; "
                                 "media-src 'self' blob:; connect-src 'self'; "
                                 "frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
}

void console_reply_json(SoupServerMessage *msg, guint status, char *json)
{
    common_headers(msg);
    soup_message_headers_replace(soup_server_message_get_response_headers(msg),
                                 "Cache-Control", "no-store");
    soup_server_message_set_status(msg, status, NULL);
    soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_TAKE, json,
                                     strlen(json));
}

void console_reply_error(SoupServerMessage *msg, guint status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *text = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "error");
    json_builder_add_string_value(b, text);
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    console_reply_json(msg, status, json_to_string(root, FALSE));
}

JsonObject *console_body_object(SoupServerMessage *msg, JsonParser *parser)
{
    SoupMessageBody *body = soup_server_message_get_request_body(msg);
    GError *error = NULL;
    if (!body || body->length == 0 || body->length > MAX_BODY ||
        !g_utf8_validate(body->data, (gssize)body->length, NULL) ||
        !json_parser_load_from_data(parser, body->data, (gssize)body->length, &error) ||
        !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser))) {
        console_reply_error(msg, SOUP_STATUS_BAD_REQUEST, "the body must be one JSON object%s%s",
                            error ? ": " : "", error ? error->message : "");
        g_clear_error(&error);
        return NULL;
    }
    return json_node_get_object(json_parser_get_root(parser));
}

static char *cookie_value(SoupServerMessage *msg, const char *name)
{
    const char *header =
        soup_message_headers_get_list(soup_server_message_get_request_headers(msg), "Cookie");
    if (!header || strlen(header) > 8192)
        return NULL;
    GHashTable *params = soup_header_parse_semi_param_list(header);
    const char *v = g_hash_table_lookup(params, name);
    char *value = v && strlen(v) == 64 ? g_strdup(v) : NULL;
    soup_header_free_param_list(params);
    return value;
}

static gboolean is_api(const char *path)
{
    return g_str_has_prefix(path, "/api/") || strcmp(path, "/metrics") == 0;
}

/* What a state change at @path needs. */
static ConsoleRole needed_role(const char *method, const char *path)
{
    if (strcmp(path, "/api/hold") == 0 || strcmp(path, "/api/override") == 0)
        return CONSOLE_ROLE_OFFICER;
    if (strcmp(path, "/api/logout") == 0 || g_str_has_prefix(path, "/api/whep"))
        return CONSOLE_ROLE_VIEWER;
    (void)method;
    return CONSOLE_ROLE_OPERATOR;
}

static gboolean is_public(const char *method, const char *path)
{
    /* The login page and its own assets; the other pages and scripts need a session. */
    return strcmp(path, "/healthz") == 0 || strcmp(path, "/login") == 0 ||
           strcmp(path, "/static/login.js") == 0 || strcmp(path, "/static/console.css") == 0 ||
           (strcmp(path, "/api/login") == 0 && strcmp(method, "POST") == 0);
}

/* The gate: every request but the public ones carries a session cookie or a bearer token;
 * state changes need the role and, with a cookie, the session's CSRF token. */
static void on_early(SoupServer *server, SoupServerMessage *msg, const char *path,
                     GHashTable *query, gpointer data)
{
    PsConsole *c = data;
    c->requests++;
    const char *method = soup_server_message_get_method(msg);
    if (is_public(method, path))
        return;
    SoupMessageHeaders *h = soup_server_message_get_request_headers(msg);
    const char *authz = soup_message_headers_get_one(h, "Authorization");
    ConsoleWho who = {0};
    const char *user = NULL;
    if (authz && g_ascii_strncasecmp(authz, "Bearer ", 7) == 0) {
        user = console_auth_token(c->auth, authz + 7, &who.role);
    } else {
        g_autofree char *sid = cookie_value(msg, COOKIE);
        const ConsoleSession *s = console_auth_session(c->auth, sid, g_get_real_time());
        if (s) {
            user = s->user;
            who.role = s->role;
            who.cookie = TRUE;
            gboolean safe = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
            const char *csrf = soup_message_headers_get_one(h, "X-CSRF-Token");
            if (!safe && (!csrf || !console_equal(csrf, s->csrf))) {
                c->denied++;
                g_info("console: %s: %s %s refused: missing or wrong CSRF token", s->user,
                       method, path);
                console_reply_error(msg, SOUP_STATUS_FORBIDDEN,
                                    "missing or wrong X-CSRF-Token (from GET /api/me)");
                return;
            }
        }
    }
    if (!user) {
        c->denied++;
        if (is_api(path)) {
            soup_message_headers_replace(soup_server_message_get_response_headers(msg),
                                         "WWW-Authenticate", "Bearer realm=\"portsight\"");
            console_reply_error(msg, SOUP_STATUS_UNAUTHORIZED,
                                "authentication required (session cookie or bearer token)");
        } else {
            g_autofree char *next = g_uri_escape_string(path, "/", FALSE);
            g_autofree char *to = g_strdup_printf("/login?next=%s", next);
            common_headers(msg);
            soup_server_message_set_redirect(msg, SOUP_STATUS_SEE_OTHER, to);
        }
        return;
    }
    gboolean change = strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0;
    if (change && who.role < needed_role(method, path)) {
        c->denied++;
        g_info("console: %s (%s): %s %s refused: needs the %s role", user,
               console_role_name(who.role), method, path,
               console_role_name(needed_role(method, path)));
        console_reply_error(msg, SOUP_STATUS_FORBIDDEN, "%s %s needs the %s role (you are %s)",
                            method, path, console_role_name(needed_role(method, path)),
                            console_role_name(who.role));
        return;
    }
    ConsoleWho *w = g_new0(ConsoleWho, 1);
    *w = who;
    w->user = g_strdup(user);
    g_object_set_data_full(G_OBJECT(msg), "ps-who", w, who_free);
}

static const char *content_type(const char *name)
{
    return g_str_has_suffix(name, ".html") ? "text/html; charset=utf-8"
           : g_str_has_suffix(name, ".js") ? "text/javascript; charset=utf-8"
           : g_str_has_suffix(name, ".css") ? "text/css; charset=utf-8"
           : g_str_has_suffix(name, ".svg") ? "image/svg+xml"
                                            : "application/octet-stream";
}

static gboolean safe_name(const char *name)
{
    gsize n = strlen(name);
    return n > 0 && n < 64 && name[0] != '.' &&
           strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

static void serve_file(PsConsole *c, SoupServerMessage *msg, const char *name)
{
    GBytes *bytes = NULL;
    if (safe_name(name)) {
        if (c->www_dir) {
            g_autofree char *p = g_build_filename(c->www_dir, name, NULL);
            gchar *data = NULL;
            gsize len = 0;
            if (g_file_get_contents(p, &data, &len, NULL))
                bytes = g_bytes_new_take(data, len);
        } else {
            g_autofree char *p = g_strdup_printf("/org/portsight/console/%s", name);
            bytes = g_resource_lookup_data(c->resource, p, 0, NULL);
        }
    }
    if (!bytes) {
        console_reply_error(msg, SOUP_STATUS_NOT_FOUND, "no such page");
        return;
    }
    common_headers(msg);
    soup_message_headers_replace(soup_server_message_get_response_headers(msg),
                                 "Cache-Control", "no-cache");
    soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
    gsize len = 0;
    const char *data = g_bytes_get_data(bytes, &len);
    soup_server_message_set_response(msg, content_type(name), SOUP_MEMORY_COPY, data, len);
    g_bytes_unref(bytes);
}

static char *me_json(const char *user, ConsoleRole role, const char *csrf)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "user");
    json_builder_add_string_value(b, user);
    json_builder_set_member_name(b, "role");
    json_builder_add_string_value(b, console_role_name(role));
    json_builder_set_member_name(b, "csrf");
    if (csrf)
        json_builder_add_string_value(b, csrf);
    else
        json_builder_add_null_value(b);
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    return json_to_string(root, FALSE);
}

static void set_cookie(PsConsole *c, SoupServerMessage *msg, const char *sid, int max_age)
{
    g_autofree char *v = g_strdup_printf("%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d%s",
                                         COOKIE, sid, max_age, c->https ? "; Secure" : "");
    soup_message_headers_append(soup_server_message_get_response_headers(msg), "Set-Cookie", v);
}

static void do_login(PsConsole *c, SoupServerMessage *msg)
{
    g_autoptr(JsonParser) p = json_parser_new();
    JsonObject *o = console_body_object(msg, p);
    if (!o)
        return;
    const char *user = json_object_get_string_member_with_default(o, "user", NULL);
    const char *password = json_object_get_string_member_with_default(o, "password", NULL);
    if (!user || !password || strlen(user) > 64 || strlen(password) > 1024) {
        console_reply_error(msg, SOUP_STATUS_BAD_REQUEST, "expected {\"user\", \"password\"}");
        return;
    }
    const char *ip = soup_server_message_get_remote_host(msg);
    g_autofree char *ip_key = g_strdup_printf("ip:%s", ip ? ip : "?");
    g_autofree char *user_key = g_strdup_printf("user:%s", user);
    gint64 now = g_get_real_time();
    int retry = 0;
    if (!console_auth_rate_ok(c->auth, ip_key, now, &retry) ||
        !console_auth_rate_ok(c->auth, user_key, now, &retry)) {
        g_autofree char *r = g_strdup_printf("%d", retry);
        soup_message_headers_replace(soup_server_message_get_response_headers(msg),
                                     "Retry-After", r);
        g_warning("console: login for '%s' from %s refused: too many failures", user,
                  ip ? ip : "?");
        console_reply_error(msg, 429,
                            "too many failed logins; try again in %d s", retry);
        return;
    }
    ConsoleRole role;
    if (!console_auth_password(c->auth, user, password, &role)) {
        console_auth_rate_fail(c->auth, ip_key, now);
        console_auth_rate_fail(c->auth, user_key, now);
        g_info("console: login for '%s' from %s failed", user, ip ? ip : "?");
        console_reply_error(msg, SOUP_STATUS_UNAUTHORIZED, "wrong user name or password");
        return;
    }
    g_autofree char *sid = console_auth_session_new(c->auth, user, role, now);
    const ConsoleSession *s = console_auth_session(c->auth, sid, now);
    set_cookie(c, msg, sid, CONSOLE_SESSION_IDLE_S);
    g_info("console: %s (%s) logged in from %s", user, console_role_name(role), ip ? ip : "?");
    console_reply_json(msg, SOUP_STATUS_OK, me_json(user, role, s->csrf));
}

static void on_request(SoupServer *server, SoupServerMessage *msg, const char *path,
                       GHashTable *query, gpointer data)
{
    PsConsole *c = data;
    const char *method = soup_server_message_get_method(msg);
    const ConsoleWho *who = console_who(msg);
    if (strcmp(path, "/api/login") == 0 && strcmp(method, "POST") == 0) {
        do_login(c, msg);
        return;
    }
    if (!who && !is_public(method, path)) {
        console_reply_error(msg, SOUP_STATUS_UNAUTHORIZED, "authentication required");
        return;
    }
    if (who && strcmp(method, "GET") != 0)
        g_info("console: %s (%s): %s %s", who->user, console_role_name(who->role), method,
               path);
    if (strcmp(path, "/api/me") == 0 && strcmp(method, "GET") == 0) {
        g_autofree char *sid = who->cookie ? cookie_value(msg, COOKIE) : NULL;
        const ConsoleSession *s = sid ? console_auth_session(c->auth, sid, g_get_real_time())
                                      : NULL;
        console_reply_json(msg, SOUP_STATUS_OK, me_json(who->user, who->role,
                                                        s ? s->csrf : NULL));
        return;
    }
    if (strcmp(path, "/api/logout") == 0 && strcmp(method, "POST") == 0) {
        g_autofree char *sid = cookie_value(msg, COOKIE);
        console_auth_session_end(c->auth, sid);
        set_cookie(c, msg, "", 0);
        console_reply_json(msg, SOUP_STATUS_OK, g_strdup("{\"ok\":true}"));
        return;
    }
    if (console_api_dispatch(c, msg, method, path, query))
        return;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        console_reply_error(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "%s %s: no such action", method,
                            path);
        return;
    }
    if (strcmp(path, "/") == 0)
        serve_file(c, msg, "wall.html");
    else if (strcmp(path, "/vessel") == 0)
        serve_file(c, msg, "vessel.html");
    else if (strcmp(path, "/login") == 0)
        serve_file(c, msg, "login.html");
    else if (g_str_has_prefix(path, "/static/"))
        serve_file(c, msg, path + strlen("/static/"));
    else if (g_str_has_prefix(path, "/assets/"))
        serve_file(c, msg, path + strlen("/assets/"));
    else if (is_api(path))
        console_reply_error(msg, SOUP_STATUS_NOT_FOUND, "%s: no such endpoint", path);
    else
        serve_file(c, msg, "");
}

static void on_live_ws(SoupServer *server, SoupServerMessage *msg, const char *path,
                       SoupWebsocketConnection *ws, gpointer data)
{
    console_api_live(data, ws);
}

/* /api/wall/mse: the wall; /api/mse/NAME: stream NAME ("wall" or a camera). */
static void on_mse_ws(SoupServer *server, SoupServerMessage *msg, const char *path,
                      SoupWebsocketConnection *ws, gpointer data)
{
    PsConsole *c = data;
    const char *stream = g_str_has_prefix(path, "/api/mse/") ? path + strlen("/api/mse/") : NULL;
    if (c->media)
        console_media_add_mse(c->media, stream, ws);
    else
        soup_websocket_connection_close(ws, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, "no wall");
}

static gboolean parse_listen(const char *text, char **host, guint *port)
{
    const char *colon = strrchr(text, ':');
    if (!colon || colon == text)
        return FALSE;
    char *end = NULL;
    guint64 p = g_ascii_strtoull(colon + 1, &end, 10);
    if (end == colon + 1 || *end || p > 65535)
        return FALSE;
    if (text[0] == '[') {
        if (colon[-1] != ']')
            return FALSE;
        *host = g_strndup(text + 1, (gsize)(colon - text - 2));
    } else {
        *host = g_strndup(text, (gsize)(colon - text));
    }
    *port = (guint)p;
    return TRUE;
}

PsConsole *console_new(const ConsoleConfig *cfg, GError **error)
{
    g_autofree char *host = NULL;
    PsConsole *c = g_new0(PsConsole, 1);
    c->cfg = *cfg;
    c->listen = g_strdup(cfg->listen ? cfg->listen : "127.0.0.1:8080");
    c->tls_cert = g_strdup(cfg->tls_cert);
    c->tls_key = g_strdup(cfg->tls_key);
    c->users = g_strdup(cfg->users);
    c->www_dir = g_strdup(cfg->www_dir);
    c->topic_root = g_strdup(cfg->topic_root ? cfg->topic_root : "port");
    c->destinations = g_strdupv((char **)cfg->destinations);
    c->live = g_ptr_array_new_with_free_func(g_object_unref);
    c->resource = console_get_resource();
    c->inputs_by_topic = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    c->dead_by_reason = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    c->decisions_by_kind = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    c->auth = console_auth_new(c->users, error);
    if (!c->auth)
        goto fail;
    guint port = 0;
    if (!parse_listen(c->listen, &host, &port)) {
        g_set_error(error, CONSOLE_ERROR, CONSOLE_ERROR_CONFIG,
                    "[http] listen: '%s' is not HOST:PORT (e.g. 127.0.0.1:8080, [::1]:8080)",
                    c->listen);
        goto fail;
    }
    if (!c->tls_cert != !c->tls_key) {
        g_set_error(error, CONSOLE_ERROR, CONSOLE_ERROR_CONFIG,
                    "[http] tls_cert and tls_key: give both or neither");
        goto fail;
    }
    c->server = soup_server_new("server-header", "portsight", NULL);
    if (c->tls_cert) {
        GTlsCertificate *cert = g_tls_certificate_new_from_files(c->tls_cert, c->tls_key, error);
        if (!cert) {
            g_prefix_error(error, "[http] tls_cert %s / tls_key %s: ", c->tls_cert, c->tls_key);
            goto fail;
        }
        soup_server_set_tls_certificate(c->server, cert);
        g_object_unref(cert);
        c->https = TRUE;
    }
    if (cfg->engine.wall)
        c->media = console_media_new(cfg->engine.wall);
    soup_server_add_early_handler(c->server, NULL, on_early, c, NULL);
    soup_server_add_handler(c->server, NULL, on_request, c, NULL);
    soup_server_add_websocket_handler(c->server, "/api/live", NULL, NULL, on_live_ws, c, NULL);
    soup_server_add_websocket_handler(c->server, "/api/wall/mse", NULL, NULL, on_mse_ws, c,
                                      NULL);
    soup_server_add_websocket_handler(c->server, "/api/mse", NULL, NULL, on_mse_ws, c, NULL);
    GInetAddress *addr = g_inet_address_new_from_string(host);
    if (!addr) {
        g_set_error(error, CONSOLE_ERROR, CONSOLE_ERROR_CONFIG,
                    "[http] listen: '%s' is not an IP address", host);
        goto fail;
    }
    GSocketAddress *sa = g_inet_socket_address_new(addr, port);
    g_object_unref(addr);
    gboolean ok = soup_server_listen(c->server, sa, c->https ? SOUP_SERVER_LISTEN_HTTPS : 0,
                                     error);
    g_object_unref(sa);
    if (!ok) {
        g_prefix_error(error, "[http] listen %s: ", c->listen);
        goto fail;
    }
    console_api_start(c);
    GSList *uris = soup_server_get_uris(c->server);
    c->port = uris ? (guint)g_uri_get_port(uris->data) : port;
    g_slist_free_full(uris, (GDestroyNotify)g_uri_unref);
    g_info("console: listening on %s://%s:%u/ (%u user%s)", c->https ? "https" : "http", host,
           c->port, console_auth_users(c->auth), console_auth_users(c->auth) == 1 ? "" : "s");
    return c;

fail:
    console_free(c);
    return NULL;
}

guint console_port(PsConsole *c)
{
    return c->port;
}

void console_free(PsConsole *c)
{
    if (!c)
        return;
    if (c->server)
        soup_server_disconnect(c->server);
    console_api_free(c);
    console_media_free(c->media);
    g_clear_object(&c->server);
    g_ptr_array_unref(c->live);
    console_auth_free(c->auth);
    g_hash_table_unref(c->inputs_by_topic);
    g_hash_table_unref(c->dead_by_reason);
    g_hash_table_unref(c->decisions_by_kind);
    g_free(c->listen);
    g_free(c->tls_cert);
    g_free(c->tls_key);
    g_free(c->users);
    g_free(c->www_dir);
    g_free(c->topic_root);
    g_strfreev(c->destinations);
    g_free(c);
}
