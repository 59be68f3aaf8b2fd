#include <stdint.h>
#include <string.h>
#include "mathlib/mathlib.h"
#include "mathlib/config.h"

/* step 1: a little arithmetic, so each object differs */
int math_step1(int x)
{
    int acc = x;
    for (int k = 0; k < 4; ++k)
        acc = (acc * MATHLIB_SCALE + 8) % 10007;
    return acc;
}
