#include "plug.hpp"
#include <sstream>

std::string plug5(int x)
{
    std::ostringstream s;
    s << "plug5=" << x + 5;
    return s.str();
}
