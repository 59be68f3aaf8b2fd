#include <stdint.h>
#include <string.h>
#include "mathlib/mathlib.h"
#include "mathlib/config.h"

/* step 2: a little arithmetic, so each object differs */
int math_step2(int x)
{
    int acc = x;
    for (int k = 0; k < 5; ++k)
        acc = (acc * MATHLIB_SCALE + 15) % 10007;
    return acc;
}
