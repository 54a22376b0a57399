/* cmd_webhook.c: `portsight webhook enable NAME`: resumes a webhook its endpoint disabled. */
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "rules-cli.h"
#include "store-outbox.h"

int app_cmd_webhook(int argc, char **argv)
{
    g_autofree char *db = NULL;
    g_autofree char *config = NULL;
    const GOptionEntry entries[] = {
        {"db", 0, 0, G_OPTION_ARG_FILENAME, &db, "the store (default: ./portsight.db)", "FILE"},
        {"config", 'c', 0, G_OPTION_ARG_FILENAME, &config, "use the [store] path of FILE",
         "FILE"},
        {NULL},
    };
    int code;
    if (!app_parse_options(&argc, &argv, "enable NAME",
                           "Enables [webhook NAME] again after its endpoint answered 410 Gone: "
                           "what was decided\nmeanwhile is delivered to it, in order (a running "
                           "engine notices within a second).",
                           entries, &code))
        return code;
    if (argc != 3 || strcmp(argv[1], "enable") != 0) {
        app_error(NULL, "webhook: usage: portsight webhook [--db FILE | -c FILE] enable NAME");
        return APP_EXIT_USAGE;
    }
    g_autofree char *path = NULL;
    PsStore *store = app_rules_open_store("webhook", db, config, TRUE, &path);
    if (!store)
        return APP_EXIT_USAGE;
    g_autofree char *dest = g_strdup_printf("webhook %s", argv[2]);
    g_autoptr(GError) error = NULL;
    gboolean found = FALSE;
    int rc = APP_EXIT_OK;
    if (!store_outbox_enable(store, dest, &found, &error)) {
        app_error(path, "webhook enable: %s", error->message);
        rc = APP_EXIT_USAGE;
    } else if (!found) {
        app_error(path, "webhook enable: no [webhook %s] has run with this store", argv[2]);
        rc = APP_EXIT_USAGE;
    } else {
        PsOutboxStats st = {0};
        if (store_outbox_stats(store, dest, &st, NULL))
            printf("webhook %s enabled: %" G_GINT64_FORMAT " messages queued for it\n", argv[2],
                   st.pending);
    }
    store_close(store);
    return rc;
}
