#include "util.h"
#include "config.h"

int util1(int x)
{
    return x * 2 + FACTOR;
}
