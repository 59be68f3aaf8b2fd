#include "plug.hpp"
#include <sstream>

std::string plug2(int x)
{
    std::ostringstream s;
    s << "plug2=" << x + 2;
    return s.str();
}
