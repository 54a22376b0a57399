/* cmd_user.c: `portsight user add NAME --role viewer|operator|officer`: a console user. */
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "app.h"
#include "config.h"
#include "console.h"

/* One line from stdin, without echo when it is a terminal. */
static char *read_password(const char *prompt)
{
    gboolean tty = isatty(STDIN_FILENO);
    struct termios old, quiet;
    if (tty) {
        fprintf(stderr, "%s", prompt);
        tcgetattr(STDIN_FILENO, &old);
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    char buf[1025];
    char *line = fgets(buf, sizeof buf, stdin);
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fprintf(stderr, "\n");
    }
    if (!line)
        return NULL;
    buf[strcspn(buf, "\r\n")] = '\0';
    char *out = g_strdup(buf);
    explicit_bzero(buf, sizeof buf);
    return out;
}

int app_cmd_user(int argc, char **argv)
{
    g_autofree char *role_text = NULL, *users = NULL, *config_path = NULL;
    gboolean no_password = FALSE;
    const GOptionEntry entries[] = {
        {"role", 'r', 0, G_OPTION_ARG_STRING, &role_text, "viewer, operator or officer", "ROLE"},
        {"users", 'u', 0, G_OPTION_ARG_FILENAME, &users,
         "the users file (default: [http] users of -c FILE)", "FILE"},
        {"config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path, "configuration file", "FILE"},
        {"no-password", 0, 0, G_OPTION_ARG_NONE, &no_password,
         "an API client: bearer token only, no login", NULL},
        {NULL},
    };
    int code;
    if (!app_parse_options(&argc, &argv, "add NAME",
                           "Adds (or replaces) a console user. The password is read from the "
                           "terminal (or the first\nline of standard input) and kept as a salted "
                           "crypt(3) hash; the API token printed is\nshown once (only its "
                           "SHA-256 is kept).",
                           entries, &code))
        return code;
    ConsoleRole role;
    if (argc != 3 || strcmp(argv[1], "add") != 0 || !role_text) {
        app_error(NULL, "user: usage: portsight user add NAME --role viewer|operator|officer "
                        "[--users FILE | -c FILE]");
        return APP_EXIT_USAGE;
    }
    if (!console_role_parse(role_text, &role)) {
        app_error(NULL, "user: --role '%s': expected viewer, operator or officer", role_text);
        return APP_EXIT_USAGE;
    }
    g_autoptr(GError) error = NULL;
    if (!users && config_path) {
        g_autoptr(AppConfig) cfg = app_config_load(config_path, &error);
        if (!cfg) {
            app_error(NULL, "%s", error->message);
            return APP_EXIT_USAGE;
        }
        users = g_strdup(app_config_string(cfg, "http", "users"));
        if (!users) {
            app_error(config_path, "[http] users is not set: give the users file");
            return APP_EXIT_USAGE;
        }
    }
    if (!users) {
        app_error(NULL, "user: give the users file with --users FILE or -c FILE");
        return APP_EXIT_USAGE;
    }
    g_autofree char *password = NULL;
    if (!no_password) {
        password = read_password("Password: ");
        if (!password || strlen(password) < 8) {
            app_error(NULL, "user: a password of at least 8 characters is needed (or "
                            "--no-password for an API client)");
            return APP_EXIT_USAGE;
        }
    }
    g_autofree char *token = console_user_add(users, argv[2], role, password, &error);
    if (password)
        explicit_bzero(password, strlen(password));
    if (!token) {
        app_error(NULL, "user: %s", error->message);
        return APP_EXIT_USAGE;
    }
    printf("%s\n", token);
    fprintf(stderr, "user %s (%s) written to %s; the line above is the API token "
                    "(Authorization: Bearer TOKEN), shown only now\n",
            argv[2], console_role_name(role), users);
    return APP_EXIT_OK;
}
