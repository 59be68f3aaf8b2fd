#include "textlib/textlib.hpp"
#include <sstream>

namespace textlib {
std::string piece7(int x)
{
    std::ostringstream out;
    out << "p7:" << (x * 9) % 97;
    return out.str();
}
}
