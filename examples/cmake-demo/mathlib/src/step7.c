#include <stdint.h>
#include <string.h>
#include "mathlib/mathlib.h"
#include "mathlib/config.h"

/* step 7: a little arithmetic, so each object differs */
int math_step7(int x)
{
    int acc = x;
    for (int k = 0; k < 10; ++k)
        acc = (acc * MATHLIB_SCALE + 50) % 10007;
    return acc;
}
