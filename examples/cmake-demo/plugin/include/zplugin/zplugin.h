#ifndef ZPLUGIN_H
#define ZPLUGIN_H
#ifdef __cplusplus
extern "C" {
#endif
long zplugin_score(long seed);
unsigned zplugin_table(unsigned index);
#ifdef __cplusplus
}
#endif
#endif
