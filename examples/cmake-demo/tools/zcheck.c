#include <stdio.h>

#include "mathlib/mathlib.h"
#include "zplugin/zplugin.h"

int main(void) {
    printf("score %ld, step %d\n", zplugin_score(3), math_step0(4));
    return 0;
}
