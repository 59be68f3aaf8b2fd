#include <stdint.h>
#include <string.h>
#include "mathlib/mathlib.h"
#include "mathlib/config.h"

/* step 3: a little arithmetic, so each object differs */
int math_step3(int x)
{
    int acc = x;
    for (int k = 0; k < 6; ++k)
        acc = (acc * MATHLIB_SCALE + 22) % 10007;
    return acc;
}
