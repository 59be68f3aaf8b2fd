#include "util.h"
#include "config.h"

int util2(int x)
{
    return x * 3 + FACTOR;
}
