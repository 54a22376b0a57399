/* auth.c: users (a key file of salted crypt(3) hashes and token digests), sessions, tokens and
 * the login rate limit. */
#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/random.h>

#include "console-private.h"

G_DEFINE_QUARK(console-error-quark, console_error)

typedef struct {
    char *name;
    ConsoleRole role;
    char *password; /* crypt(3) hash, or NULL: token only */
    char *token;    /* SHA-256 hex of the API token */
} User;

typedef struct {
    guint failures;
    gint64 window_start_us;
} Rate;

struct ConsoleAuth {
    GHashTable *users;    /* name -> User* */
    GHashTable *sessions; /* sid -> ConsoleSession* */
    GHashTable *rates;    /* key -> Rate* */
    char *dummy_hash;     /* compared against for unknown users: the same work either way */
};

static const char *const role_names[] = {"viewer", "operator", "officer"};

gboolean console_role_parse(const char *text, ConsoleRole *role)
{
    for (guint i = 0; i < G_N_ELEMENTS(role_names); i++)
        if (g_strcmp0(text, role_names[i]) == 0) {
            *role = (ConsoleRole)i;
            return TRUE;
        }
    return FALSE;
}

const char *console_role_name(ConsoleRole role)
{
    return (guint)role < G_N_ELEMENTS(role_names) ? role_names[role] : "?";
}

char *console_random_hex(gsize n)
{
    guint8 buf[64];
    g_assert(n <= sizeof buf);
    gsize got = 0;
    while (got < n) {
        ssize_t r = getrandom(buf + got, n - got, 0);
        if (r < 0 && errno != EINTR)
            g_error("getrandom: %s", g_strerror(errno)); /* no randomness: cannot go on */
        if (r > 0)
            got += (gsize)r;
    }
    GString *s = g_string_sized_new(2 * n);
    for (gsize i = 0; i < n; i++)
        g_string_append_printf(s, "%02x", buf[i]);
    explicit_bzero(buf, sizeof buf);
    return g_string_free(s, FALSE);
}

gboolean console_equal(const char *a, const char *b)
{
    gsize la = strlen(a), lb = strlen(b);
    guint8 diff = la != lb;
    for (gsize i = 0; i < la; i++)
        diff |= (guint8)(a[i] ^ b[i % (lb ? lb : 1)]);
    return diff == 0;
}

static char *sha256_hex(const char *text)
{
    return g_compute_checksum_for_string(G_CHECKSUM_SHA256, text, -1);
}

/* crypt(3) with the library's preferred method (yescrypt on Debian 12), a fresh salt. */
static char *hash_password(const char *password, GError **error)
{
    char salt[CRYPT_GENSALT_OUTPUT_SIZE];
    if (!crypt_gensalt_rn(NULL, 0, NULL, 0, salt, sizeof salt)) {
        g_set_error(error, CONSOLE_ERROR, CONSOLE_ERROR_USERS, "crypt_gensalt: %s",
                    g_strerror(errno));
        return NULL;
    }
    /* On the stack (32 KB): g_new0 may return NULL as far as GCC can see, and the sanitizer
     * build then warns on explicit_bzero(NULL, ...). */
    struct crypt_data cd = {0};
    const char *h = crypt_r(password, salt, &cd);
    char *out = h && h[0] != '*' ? g_strdup(h) : NULL;
    explicit_bzero(&cd, sizeof cd);
    if (!out)
        g_set_error(error, CONSOLE_ERROR, CONSOLE_ERROR_USERS, "crypt: %s", g_strerror(errno));
    return out;
}

static gboolean check_password(const char *password, const char *hash)
{
    struct crypt_data cd = {0};
    const char *h = crypt_r(password, hash, &cd);
    gboolean ok = h && h[0] != '*' && console_equal(h, hash);
    explicit_bzero(&cd, sizeof cd);
    return ok;
}

static gboolean valid_name(const char *name)
{
    gsize n = strlen(name);
    return n >= 1 && n <= 64 &&
           strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

char *console_user_add(const char *path, const char *name, ConsoleRole role,
                       const char *password, GError **error)
{
    if (!valid_name(name)) {
        g_set_error(error, CONSOLE_ERROR, CONSOLE_ERROR_USERS,
                    "user name '%s': expected 1-64 of A-Z a-z 0-9 . _ -", name);
        return NULL;
    }
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autoptr(GError) local = NULL;
    if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_KEEP_COMMENTS, &local) &&
        !g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
        g_set_error(error, CONSOLE_ERROR, CONSOLE_ERROR_USERS, "%s: %s", path, local->message);
        return NULL;
    }
    g_autofree char *group = g_strdup_printf("user %s", name);
    g_key_file_remove_group(kf, group, NULL);
    g_key_file_set_string(kf, group, "role", console_role_name(role));
    if (password) {
        g_autofree char *h = hash_password(password, error);
        if (!h)
            return NULL;
        g_key_file_set_string(kf, group, "password", h);
    }
    char *token = console_random_hex(32);
    g_autofree char *digest = sha256_hex(token);
    g_key_file_set_string(kf, group, "token_sha256", digest);
    gsize len = 0;
    g_autofree char *data = g_key_file_to_data(kf, &len, NULL);
    /* Written whole to a temporary file, then renamed: never a half-written users file. */
    g_autofree char *tmp = g_strdup_printf("%s.tmp", path);
    int fd = g_open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    gboolean ok = fd >= 0;
    if (ok) {
        gsize off = 0;
        while (ok && off < len) {
            ssize_t w = write(fd, data + off, len - off);
            if (w < 0 && errno == EINTR)
                continue;
            ok = w > 0;
            off += w > 0 ? (gsize)w : 0;
        }
        ok = fsync(fd) == 0 && ok;
        ok = close(fd) == 0 && ok;
    }
    if (!ok || g_rename(tmp, path) != 0) {
        g_set_error(error, CONSOLE_ERROR, CONSOLE_ERROR_USERS, "%s: cannot write: %s", path,
                    g_strerror(errno));
        g_unlink(tmp);
        g_free(token);
        return NULL;
    }
    return token;
}

static void user_free(gpointer p)
{
    User *u = p;
    g_free(u->name);
    g_free(u->password);
    g_free(u->token);
    g_free(u);
}

static void session_free(gpointer p)
{
    ConsoleSession *s = p;
    g_free(s->user);
    g_free(s->csrf);
    g_free(s);
}

ConsoleAuth *console_auth_new(const char *path, GError **error)
{
    ConsoleAuth *a = g_new0(ConsoleAuth, 1);
    a->users = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, user_free);
    a->sessions = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, session_free);
    a->rates = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    a->dummy_hash = hash_password("not a password", NULL);
    if (!path)
        return a;
    g_autoptr(GKeyFile) kf = g_key_file_new();
    if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, error)) {
        g_prefix_error(error, "%s: ", path);
        console_auth_free(a);
        return NULL;
    }
    g_auto(GStrv) groups = g_key_file_get_groups(kf, NULL);
    for (guint i = 0; groups[i]; i++) {
        const char *g = groups[i];
        g_autofree char *role = g_key_file_get_string(kf, g, "role", NULL);
        User *u = g_new0(User, 1);
        u->name = g_strdup(g_str_has_prefix(g, "user ") ? g + 5 : "");
        u->password = g_key_file_get_string(kf, g, "password", NULL);
        u->token = g_key_file_get_string(kf, g, "token_sha256", NULL);
        if (!g_str_has_prefix(g, "user ") || !valid_name(u->name) ||
            !console_role_parse(role, &u->role) || (u->token && strlen(u->token) != 64) ||
            (u->password && u->password[0] != '$')) {
            g_set_error(error, CONSOLE_ERROR, CONSOLE_ERROR_CONFIG,
                        "%s: [%s]: expected [user NAME] with role = viewer|operator|officer, "
                        "password = a crypt(3) hash, token_sha256 = 64 hex digits",
                        path, g);
            user_free(u);
            console_auth_free(a);
            return NULL;
        }
        g_hash_table_replace(a->users, u->name, u);
    }
    return a;
}

void console_auth_free(ConsoleAuth *a)
{
    if (!a)
        return;
    g_hash_table_unref(a->users);
    g_hash_table_unref(a->sessions);
    g_hash_table_unref(a->rates);
    g_free(a->dummy_hash);
    g_free(a);
}

guint console_auth_users(ConsoleAuth *a)
{
    return g_hash_table_size(a->users);
}

gboolean console_auth_password(ConsoleAuth *a, const char *name, const char *password,
                               ConsoleRole *role)
{
    User *u = name ? g_hash_table_lookup(a->users, name) : NULL;
    gboolean ok = check_password(password ? password : "",
                                 u && u->password ? u->password
                                                  : a->dummy_hash ? a->dummy_hash : "*");
    if (!u || !u->password || !ok)
        return FALSE;
    *role = u->role;
    return TRUE;
}

const char *console_auth_token(ConsoleAuth *a, const char *token, ConsoleRole *role)
{
    if (!token || strlen(token) != 64)
        return NULL;
    g_autofree char *digest = sha256_hex(token);
    GHashTableIter it;
    gpointer v;
    const User *found = NULL;
    g_hash_table_iter_init(&it, a->users);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        const User *u = v;
        if (u->token && console_equal(u->token, digest))
            found = u;
    }
    if (found)
        *role = found->role;
    return found ? found->name : NULL;
}

char *console_auth_session_new(ConsoleAuth *a, const char *user, ConsoleRole role,
                               gint64 now_us)
{
    while (g_hash_table_size(a->sessions) >= CONSOLE_SESSIONS_MAX) {
        GHashTableIter it;
        gpointer k, v, oldest = NULL;
        gint64 oldest_us = G_MAXINT64;
        g_hash_table_iter_init(&it, a->sessions);
        while (g_hash_table_iter_next(&it, &k, &v))
            if (((ConsoleSession *)v)->last_us < oldest_us) {
                oldest_us = ((ConsoleSession *)v)->last_us;
                oldest = k;
            }
        g_hash_table_remove(a->sessions, oldest);
    }
    ConsoleSession *s = g_new0(ConsoleSession, 1);
    s->user = g_strdup(user);
    s->role = role;
    s->csrf = console_random_hex(32);
    s->last_us = now_us;
    char *sid = console_random_hex(32);
    g_hash_table_replace(a->sessions, g_strdup(sid), s);
    return sid;
}

const ConsoleSession *console_auth_session(ConsoleAuth *a, const char *sid, gint64 now_us)
{
    if (!sid)
        return NULL;
    ConsoleSession *s = g_hash_table_lookup(a->sessions, sid);
    if (!s)
        return NULL;
    if (now_us - s->last_us > (gint64)CONSOLE_SESSION_IDLE_S * G_USEC_PER_SEC) {
        g_hash_table_remove(a->sessions, sid);
        return NULL;
    }
    s->last_us = now_us;
    return s;
}

void console_auth_session_end(ConsoleAuth *a, const char *sid)
{
    if (sid)
        g_hash_table_remove(a->sessions, sid);
}

static gboolean rate_expired(gpointer key, gpointer value, gpointer data)
{
    return *(gint64 *)data - ((Rate *)value)->window_start_us >
           (gint64)CONSOLE_LOGIN_WINDOW_S * G_USEC_PER_SEC;
}

gboolean console_auth_rate_ok(ConsoleAuth *a, const char *key, gint64 now_us, int *retry_s)
{
    Rate *r = g_hash_table_lookup(a->rates, key);
    gint64 window = (gint64)CONSOLE_LOGIN_WINDOW_S * G_USEC_PER_SEC;
    if (!r || now_us - r->window_start_us > window || r->failures < CONSOLE_LOGIN_FAILURES)
        return TRUE;
    if (retry_s)
        *retry_s = (int)((r->window_start_us + window - now_us) / G_USEC_PER_SEC) + 1;
    return FALSE;
}

void console_auth_rate_fail(ConsoleAuth *a, const char *key, gint64 now_us)
{
    if (g_hash_table_size(a->rates) >= CONSOLE_RATE_KEYS_MAX)
        g_hash_table_foreach_remove(a->rates, rate_expired, &now_us);
    if (g_hash_table_size(a->rates) >= CONSOLE_RATE_KEYS_MAX)
        return; /* still full of live keys: the per-user key still limits */
    Rate *r = g_hash_table_lookup(a->rates, key);
    if (!r) {
        r = g_new0(Rate, 1);
        g_hash_table_insert(a->rates, g_strdup(key), r);
    }
    if (now_us - r->window_start_us > (gint64)CONSOLE_LOGIN_WINDOW_S * G_USEC_PER_SEC) {
        r->window_start_us = now_us;
        r->failures = 0;
    }
    r->failures++;
}
