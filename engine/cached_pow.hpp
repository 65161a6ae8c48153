#pragma once
// pow(base, exponent), remembered until its arguments change: rates in a
// scenario are constants or paths that change at knots, and the step loop
// asks for the same factor month after month (pow is among its dearest calls).
// Its own header: time paths (engine/param.hpp) and the market's closed forms
// (engine/market/economics.hpp) both use it, and neither depends on the other.
#include <cmath>

namespace entangle {

struct CachedPow {
    double base = NAN, exponent = NAN, value = NAN;
    double operator()(double b, double e) {
        if (b != base || e != exponent) base = b, exponent = e, value = std::pow(b, e);
        return value;
    }
};

}  // namespace entangle
