#ifndef UTIL_H
#define UTIL_H
int util0(int x);
int util1(int x);
int util2(int x);
int util3(int x);
int util4(int x);
int util5(int x);
int util6(int x);
int util7(int x);
#endif
