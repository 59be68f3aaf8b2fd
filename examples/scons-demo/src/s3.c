#include "util.h"

int stage3(int x)
{
    return util3(x) + util6(x);
}
