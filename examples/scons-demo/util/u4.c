#include "util.h"

int util4(int x)
{
    return x * 5 + 4;
}
