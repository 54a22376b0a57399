/* ruletest.h: helpers shared by the rules tests. */
#pragma once

#include "store-rules.h"

/* Every decision of @store, oldest first, as @append (a PsDecisionFunc given a GString) writes
 * each into one string. Fails the test when the store cannot be read. */
char *ruletest_decisions(PsStore *store, PsDecisionFunc append);
