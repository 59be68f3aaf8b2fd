#include "util.h"

int stage0(int x)
{
    return util0(x) + util3(x);
}
