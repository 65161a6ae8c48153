#pragma once
// Procurement of term capacity contracts by bargaining (MODEL.md 7): a lab
// asks every eligible cloud for a quote, bargains by the scenario's protocol,
// takes quotes cheapest first within its diversification limit, and lets a
// right-of-first-refusal holder match each deal first.
#include "engine/world.hpp"

namespace entangle {

// Phase 4, after the lab has planned its need: one procurement round when due.
void procure_capacity(World& w, RoleIndex lab);

}  // namespace entangle
