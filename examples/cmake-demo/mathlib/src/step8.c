#include <stdint.h>
#include <string.h>
#include "mathlib/mathlib.h"
#include "mathlib/config.h"

/* step 8: a little arithmetic, so each object differs */
int math_step8(int x)
{
    int acc = x;
    for (int k = 0; k < 11; ++k)
        acc = (acc * MATHLIB_SCALE + 57) % 10007;
    return acc;
}
