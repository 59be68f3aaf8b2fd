#pragma once
#include <string>
#include <vector>

namespace textlib {
std::string piece0(int x);
std::string piece1(int x);
std::string piece2(int x);
std::string piece3(int x);
std::string piece4(int x);
std::string piece5(int x);
std::string piece6(int x);
std::string piece7(int x);
std::vector<std::string> all_pieces(int x);
}
