#include <stdint.h>
#include <string.h>
#include "mathlib/mathlib.h"
#include "mathlib/config.h"

/* step 4: a little arithmetic, so each object differs */
int math_step4(int x)
{
    int acc = x;
    for (int k = 0; k < 7; ++k)
        acc = (acc * MATHLIB_SCALE + 29) % 10007;
    return acc;
}
