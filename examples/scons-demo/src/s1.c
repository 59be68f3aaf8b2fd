#include "util.h"

int stage1(int x)
{
    return util1(x) + util4(x);
}
