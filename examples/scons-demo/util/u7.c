#include "util.h"

int util7(int x)
{
    return x * 8 + 7;
}
