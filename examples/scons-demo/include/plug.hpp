#pragma once
#include <string>
std::string plug0(int x);
std::string plug1(int x);
std::string plug2(int x);
std::string plug3(int x);
std::string plug4(int x);
std::string plug5(int x);
extern "C" int plug_total(int x);
