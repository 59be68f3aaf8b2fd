#include <iostream>
#include "report.hpp"

int main()
{
    const std::string text = report(42);
    std::cout << text << "\n";
    std::cout << "checksum " << checksum(text) << "\n";
    return 0;
}
