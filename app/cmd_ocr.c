/* cmd_ocr.c: `portsight ocr [--fuse] IMAGE...`. Not built yet: issue 4 brings it. */
#include "app.h"

int app_cmd_ocr(int argc, char **argv)
{
    const GOptionEntry entries[] = {{NULL}};
    int code;
    if (!app_parse_options(&argc, &argv, "[--fuse] IMAGE...", "Not available in this build yet.", entries,
                           &code))
        return code;
    app_error(NULL, "ocr: not available in this build yet");
    return APP_EXIT_USAGE;
}
