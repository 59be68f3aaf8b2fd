#include "util.h"

int stage5(int x)
{
    return util5(x) + util0(x);
}
