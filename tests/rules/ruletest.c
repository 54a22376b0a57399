#include "ruletest.h"

#include "testutil.h"

char *ruletest_decisions(PsStore *store, PsDecisionFunc append)
{
    GString *out = g_string_new(NULL);
    GError *error = NULL;
    ck_assert(store_rules_decisions_foreach(store, NULL, append, out, &error));
    ck_assert_no_error(error);
    return g_string_free(out, FALSE);
}
