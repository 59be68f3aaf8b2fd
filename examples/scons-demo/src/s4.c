#include "util.h"

int stage4(int x)
{
    return util4(x) + util7(x);
}
