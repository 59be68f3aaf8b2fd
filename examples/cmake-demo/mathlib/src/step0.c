#include <stdint.h>
#include <string.h>
#include "mathlib/mathlib.h"
#include "mathlib/config.h"

/* step 0: a little arithmetic, so each object differs */
int math_step0(int x)
{
    int acc = x;
    for (int k = 0; k < 3; ++k)
        acc = (acc * MATHLIB_SCALE + 1) % 10007;
    return acc;
}
