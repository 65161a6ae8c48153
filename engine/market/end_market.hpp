#pragma once
// The AI end market (MODEL.md 5.3): logit shares and served revenue with one
// round of spill-over to labs that have spare inference capacity.
#include <cmath>
#include <span>

namespace entangle {

// s_i = exp(u_i) / sum_j exp(u_j), computed stably (shift by the maximum).
inline void logit_shares(std::span<const double> utility, std::span<double> shares) {
    double top = -INFINITY;
    for (double u : utility) top = std::fmax(top, u);
    double total = 0;
    for (std::size_t i = 0; i < utility.size(); ++i) total += shares[i] = std::exp(utility[i] - top);
    for (double& s : shares) s /= total;
}

// potential[i]: revenue lab i would earn on its share; serveable[i]: revenue
// its inference compute can serve. Fills served[i]. Demand a lab cannot serve
// spills over once to labs with spare capacity, pro rata to their shares.
inline void serve_end_market(std::span<const double> potential, std::span<const double> serveable,
                             std::span<const double> shares, std::span<double> served) {
    double unserved = 0, spare_share = 0;
    for (std::size_t i = 0; i < potential.size(); ++i) {
        served[i] = std::fmin(potential[i], serveable[i]);
        unserved += potential[i] - served[i];
        if (serveable[i] > served[i]) spare_share += shares[i];
    }
    if (unserved <= 0 || spare_share <= 0) return;
    for (std::size_t i = 0; i < potential.size(); ++i) {
        const double spare = serveable[i] - served[i];
        if (spare > 0) served[i] += std::fmin(spare, unserved * shares[i] / spare_share);
    }
}

}  // namespace entangle
