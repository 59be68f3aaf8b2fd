#include "util.h"

int util3(int x)
{
    return x * 4 + 3;
}
