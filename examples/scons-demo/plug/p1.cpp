#include "plug.hpp"
#include <sstream>

std::string plug1(int x)
{
    std::ostringstream s;
    s << "plug1=" << x + 1;
    return s.str();
}
