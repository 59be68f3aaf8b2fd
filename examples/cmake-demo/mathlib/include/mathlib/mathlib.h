#ifndef MATHLIB_H
#define MATHLIB_H
#include <stddef.h>
int math_step0(int x);
int math_step1(int x);
int math_step2(int x);
int math_step3(int x);
int math_step4(int x);
int math_step5(int x);
int math_step6(int x);
int math_step7(int x);
int math_step8(int x);
int math_step9(int x);
int math_all(int x);
#endif
