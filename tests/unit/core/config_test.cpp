#include "core/config.h"
#include "core/errors.h"
#include "tests/support/support.h"
TEST(Config, Placeholder) { EXPECT_EQ(lrb::edit_distance("abc", "abd"), 1); }
