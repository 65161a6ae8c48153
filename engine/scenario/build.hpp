#pragma once
// A merged scenario tree -> a validated Scenario (paths tabulated when valid).
#include "engine/scenario.hpp"
#include "engine/scenario/tree.hpp"

namespace entangle::loader {

// Validates the whole tree, adding every problem found to `problems`. The
// Scenario returned is complete only when no problem was added.
Scenario build_scenario(const Tree& root, Problems& problems);

}  // namespace entangle::loader
