#include "textlib/textlib.hpp"
#include <sstream>

namespace textlib {
std::string piece3(int x)
{
    std::ostringstream out;
    out << "p3:" << (x * 5) % 97;
    return out.str();
}
}
