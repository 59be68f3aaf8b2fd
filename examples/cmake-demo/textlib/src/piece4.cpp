#include "textlib/textlib.hpp"
#include <sstream>

namespace textlib {
std::string piece4(int x)
{
    std::ostringstream out;
    out << "p4:" << (x * 6) % 97;
    return out.str();
}
}
