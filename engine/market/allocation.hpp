#pragma once
// How a chipmaker shares output among open orders when they exceed it
// (MODEL.md 5.1): pro_rata to quantity, fifo (oldest first) or strategic
// (pro rata with weight 1 + strategic_weight * stake). Pure functions.
#include <span>

#include "engine/scenario.hpp"

namespace entangle {

// requested[i]: units order i still wants, in age order; priority[i]: its
// allocation weight multiplier, read by the strategic rule only (the others may
// pass none). Fills shipped[i] <= requested[i] with sum(shipped) = min(output, sum(requested)).
void allocate_output(Allocation rule, double output, std::span<const double> requested,
                     std::span<const double> priority, std::span<double> shipped);

// One round of simultaneous best responses in a Cournot market with inverse
// demand p = a - b*Q, damped by lambda = 2/(n+1) so that it converges for any
// number of firms n (undamped best-response dynamics cycle for n >= 3). The
// fixed point for n identical firms of unit cost c is (a - c) / (b (n + 1)) each.
void cournot_round(std::span<const double> previous, std::span<const double> unit_cost, double a, double b,
                   std::span<const double> capacity, std::span<double> next);

}  // namespace entangle
