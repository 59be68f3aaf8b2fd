#include "textlib/textlib.hpp"

namespace textlib {
std::vector<std::string> all_pieces(int x)
{
    return {piece0(x), piece1(x), piece2(x), piece3(x), piece4(x), piece5(x), piece6(x), piece7(x)};
}
}
