#include "report.hpp"
#include "textlib/textlib.hpp"
extern "C" {
#include "mathlib/mathlib.h"
}

std::string report(int seed)
{
    std::string text = "math=" + std::to_string(math_all(seed));
    for (const auto &p : textlib::all_pieces(seed))
        text += " " + p;
    return text;
}
