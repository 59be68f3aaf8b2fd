#include "report.hpp"

int checksum(const std::string &text)
{
    unsigned h = 2166136261u;
    for (unsigned char c : text)
        h = (h ^ c) * 16777619u;
    return static_cast<int>(h % 100000);
}
