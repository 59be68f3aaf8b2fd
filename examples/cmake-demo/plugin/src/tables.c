#include "zplugin/zplugin.h"

static const unsigned primes[8] = {2, 3, 5, 7, 11, 13, 17, 19};

unsigned zplugin_table(unsigned index) { return primes[index % 8u]; }
