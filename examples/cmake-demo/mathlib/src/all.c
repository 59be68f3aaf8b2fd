#include "mathlib/mathlib.h"

int math_all(int x)
{
    x = math_step0(x);
    x = math_step1(x);
    x = math_step2(x);
    x = math_step3(x);
    x = math_step4(x);
    x = math_step5(x);
    x = math_step6(x);
    x = math_step7(x);
    x = math_step8(x);
    x = math_step9(x);
    return x;
}
