/* cmd_db.c: `portsight db import FILE`. Not built yet: issue 6 brings it. */
#include "app.h"

int app_cmd_db(int argc, char **argv)
{
    const GOptionEntry entries[] = {{NULL}};
    int code;
    if (!app_parse_options(&argc, &argv, "import FILE", "Not available in this build yet.", entries,
                           &code))
        return code;
    app_error(NULL, "db: not available in this build yet");
    return APP_EXIT_USAGE;
}
