#include "engine/market/allocation.hpp"

#include <algorithm>

namespace entangle {

void allocate_output(Allocation rule, double output, std::span<const double> requested,
                     std::span<const double> priority, std::span<double> shipped) {
    std::fill(shipped.begin(), shipped.end(), 0.0);
    double left = std::max(output, 0.0);
    if (rule == Allocation::fifo) {
        for (std::size_t i = 0; i < requested.size() && left > 0; ++i) {
            shipped[i] = std::min(requested[i], left);
            left -= shipped[i];
        }
        return;
    }
    // Water-filling: share what is left in proportion to weight among orders
    // not yet filled, until output or orders run out.
    const auto weight = [&](std::size_t i) {
        return requested[i] * (rule == Allocation::strategic ? std::max(priority[i], 0.0) : 1.0);
    };
    for (std::size_t round = 0; round <= requested.size() && left > 1e-12; ++round) {
        double total_weight = 0;
        for (std::size_t i = 0; i < requested.size(); ++i)
            if (shipped[i] < requested[i]) total_weight += weight(i);
        if (total_weight <= 0) break;
        const double per_weight = left / total_weight;
        double given = 0;
        for (std::size_t i = 0; i < requested.size(); ++i) {
            if (shipped[i] >= requested[i]) continue;
            const double add = std::min(requested[i] - shipped[i], weight(i) * per_weight);
            shipped[i] += add;
            given += add;
        }
        left -= given;
    }
}

void cournot_round(std::span<const double> previous, std::span<const double> unit_cost, double a, double b,
                   std::span<const double> capacity, std::span<double> next) {
    const double n = static_cast<double>(previous.size());
    const double lambda = 2.0 / (n + 1.0);
    double total = 0;
    for (double q : previous) total += q;
    for (std::size_t i = 0; i < previous.size(); ++i) {
        const double others = total - previous[i];
        const double best = std::clamp((a - unit_cost[i] - b * others) / (2.0 * b), 0.0, capacity[i]);
        next[i] = previous[i] + lambda * (best - previous[i]);
    }
}

}  // namespace entangle
