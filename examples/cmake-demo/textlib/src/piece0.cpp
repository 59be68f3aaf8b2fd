#include "textlib/textlib.hpp"
#include <sstream>

namespace textlib {
std::string piece0(int x)
{
    std::ostringstream out;
    out << "p0:" << (x * 2) % 97;
    return out.str();
}
}
