// Internal include point for the warning sink (declared publicly in <dynlib/warnings.hpp>).
#pragma once
#include <dynlib/warnings.hpp>
