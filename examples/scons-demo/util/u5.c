#include "util.h"

int util5(int x)
{
    return x * 6 + 5;
}
