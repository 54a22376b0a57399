/* cmd_ais.c: `portsight ais decode [-u] [FILE...]`. Not built yet: issue 3 brings it. */
#include "app.h"

int app_cmd_ais(int argc, char **argv)
{
    const GOptionEntry entries[] = {{NULL}};
    int code;
    if (!app_parse_options(&argc, &argv, "decode [-u] [FILE...]", "Not available in this build yet.", entries,
                           &code))
        return code;
    app_error(NULL, "ais: not available in this build yet");
    return APP_EXIT_USAGE;
}
