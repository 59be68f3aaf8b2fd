#include <stdint.h>
#include <string.h>
#include "mathlib/mathlib.h"
#include "mathlib/config.h"

/* step 6: a little arithmetic, so each object differs */
int math_step6(int x)
{
    int acc = x;
    for (int k = 0; k < 9; ++k)
        acc = (acc * MATHLIB_SCALE + 43) % 10007;
    return acc;
}
