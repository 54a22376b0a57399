/* cmd_explain.c: `portsight explain CONTAINER`. Not built yet: issue 6 brings it. */
#include "app.h"

int app_cmd_explain(int argc, char **argv)
{
    const GOptionEntry entries[] = {{NULL}};
    int code;
    if (!app_parse_options(&argc, &argv, "CONTAINER", "Not available in this build yet.", entries,
                           &code))
        return code;
    app_error(NULL, "explain: not available in this build yet");
    return APP_EXIT_USAGE;
}
