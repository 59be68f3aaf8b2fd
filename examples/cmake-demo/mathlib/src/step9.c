#include <stdint.h>
#include <string.h>
#include "mathlib/mathlib.h"
#include "mathlib/config.h"

/* step 9: a little arithmetic, so each object differs */
int math_step9(int x)
{
    int acc = x;
    for (int k = 0; k < 12; ++k)
        acc = (acc * MATHLIB_SCALE + 64) % 10007;
    return acc;
}
