#include "util.h"

int util6(int x)
{
    return x * 7 + 6;
}
