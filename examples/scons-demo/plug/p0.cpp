#include "plug.hpp"
#include <sstream>

std::string plug0(int x)
{
    std::ostringstream s;
    s << "plug0=" << x + 0;
    return s.str();
}
