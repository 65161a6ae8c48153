#pragma once
// A merged scenario tree -> a validated Scenario (paths tabulated when valid).
#include <filesystem>
#include <span>

#include "engine/scenario.hpp"
#include "engine/scenario/tree.hpp"

namespace entangle::loader {

// Validates the whole tree, adding every problem found to `problems`. The
// Scenario returned is complete only when no problem was added.
Scenario build_scenario(const Tree& root, Problems& problems);

// For sweeps (sweep_loader.cpp), which build many scenarios from one file:
// the file's tree with everything it extends merged in (throws InputError),
Tree load_file_tree(const std::filesystem::path& file);
// and the scenario of that tree with `overrides` applied, as load_scenario does
// (resolved_yaml=false: without Scenario::resolved_yaml, which sweep points do not need).
Scenario scenario_from_tree(Tree tree, const std::string& file_name, std::span<const Override> overrides,
                            bool resolved_yaml = true);

}  // namespace entangle::loader
