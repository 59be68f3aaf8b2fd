#include "textlib/textlib.hpp"
#include <sstream>

namespace textlib {
std::string piece2(int x)
{
    std::ostringstream out;
    out << "p2:" << (x * 4) % 97;
    return out.str();
}
}
