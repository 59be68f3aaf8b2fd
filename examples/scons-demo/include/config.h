#ifndef CONFIG_H
#define CONFIG_H
#define FACTOR 7
#endif
