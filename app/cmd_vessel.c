/* cmd_vessel.c: `portsight vessel calls NAME [--days N]`. Not built yet: issue 3 brings it. */
#include "app.h"

int app_cmd_vessel(int argc, char **argv)
{
    const GOptionEntry entries[] = {{NULL}};
    int code;
    if (!app_parse_options(&argc, &argv, "calls NAME [--days N]", "Not available in this build yet.", entries,
                           &code))
        return code;
    app_error(NULL, "vessel: not available in this build yet");
    return APP_EXIT_USAGE;
}
