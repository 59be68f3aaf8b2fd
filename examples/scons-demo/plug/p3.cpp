#include "plug.hpp"
#include <sstream>

std::string plug3(int x)
{
    std::ostringstream s;
    s << "plug3=" << x + 3;
    return s.str();
}
