#include <stdio.h>
#include "util.h"

int stage0(int x);
int stage1(int x);
int stage2(int x);
int stage3(int x);
int stage4(int x);
int stage5(int x);
int plug_total(int x);

int main(void)
{
    int total = 0;
    total += stage0(10);
    total += stage1(11);
    total += stage2(12);
    total += stage3(13);
    total += stage4(14);
    total += stage5(15);
    printf("total %d plug %d\n", total, plug_total(5));
    return 0;
}
