#include "textlib/textlib.hpp"
#include <sstream>

namespace textlib {
std::string piece5(int x)
{
    std::ostringstream out;
    out << "p5:" << (x * 7) % 97;
    return out.str();
}
}
