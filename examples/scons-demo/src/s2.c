#include "util.h"

int stage2(int x)
{
    return util2(x) + util5(x);
}
