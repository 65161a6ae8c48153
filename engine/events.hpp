#pragma once
// Dated events (MODEL.md 9) and the AGI panel.
#include "engine/world.hpp"

namespace entangle {

// Phase 1: apply the events dated this month (sign and invest contracts are
// already in the book, waiting for their month; here they are announced).
void apply_events(World& w);

// Phase 8: each lab past the threshold is verified with the monthly hazard;
// verification ends its until_agi contracts.
void run_agi_panel(World& w);

}  // namespace entangle
