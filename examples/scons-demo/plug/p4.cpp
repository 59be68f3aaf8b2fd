#include "plug.hpp"
#include <sstream>

std::string plug4(int x)
{
    std::ostringstream s;
    s << "plug4=" << x + 4;
    return s.str();
}
