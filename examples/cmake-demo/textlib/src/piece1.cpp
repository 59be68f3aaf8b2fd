#include "textlib/textlib.hpp"
#include <sstream>

namespace textlib {
std::string piece1(int x)
{
    std::ostringstream out;
    out << "p1:" << (x * 3) % 97;
    return out.str();
}
}
