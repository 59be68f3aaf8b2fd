#include <stdint.h>
#include <string.h>
#include "mathlib/mathlib.h"
#include "mathlib/config.h"

/* step 5: a little arithmetic, so each object differs */
int math_step5(int x)
{
    int acc = x;
    for (int k = 0; k < 8; ++k)
        acc = (acc * MATHLIB_SCALE + 36) % 10007;
    return acc;
}
