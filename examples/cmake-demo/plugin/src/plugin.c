#include "mathlib/mathlib.h"
#include "zplugin/zplugin.h"

long zplugin_score(long seed) {
    long total = 0;
    for (unsigned i = 0; i < 16u; ++i)
        total += (long)zplugin_table(i) * math_all((int)(seed + i));
    return total;
}
