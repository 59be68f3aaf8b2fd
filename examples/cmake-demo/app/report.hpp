#pragma once
#include <string>

std::string report(int seed);
int checksum(const std::string &text);
