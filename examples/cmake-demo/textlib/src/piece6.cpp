#include "textlib/textlib.hpp"
#include <sstream>

namespace textlib {
std::string piece6(int x)
{
    std::ostringstream out;
    out << "p6:" << (x * 8) % 97;
    return out.str();
}
}
