#include "util.h"
#include "config.h"

int util0(int x)
{
    return x * 1 + FACTOR;
}
