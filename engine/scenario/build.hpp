#pragma once
// A merged scenario tree -> a validated Scenario (paths tabulated when valid).
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "engine/scenario.hpp"
#include "engine/scenario/tree.hpp"

namespace entangle::loader {

// Validates the whole tree, adding every problem found to `problems`. The
// Scenario returned is complete only when no problem was added.
Scenario build_scenario(const Tree& root, Problems& problems);

// For sweeps (sweep_loader.cpp), which build many scenarios from one file:
// the file's tree with everything it extends merged in (throws InputError),
Tree load_file_tree(const std::filesystem::path& file);
// and the scenario of that tree with `overrides` applied, as load_scenario does; the
// overrides stay applied to `tree` (also when they or the scenario are refused).
Scenario scenario_from_tree(Tree& tree, const std::string& file_name, std::span<const Override> overrides);

// One change an override made to a tree, kept to undo it: sweep points apply
// their overrides to a tree they then put back, rather than to a copy of it.
struct TreeChange {
    enum class Kind { replaced, key_added };
    std::vector<std::uint32_t> route;  // child indices (map entries, list items) from the root to the node
    Kind kind = Kind::replaced;
    Tree before;  // replaced: the node as it was
};

// Applies `overrides` in order (each PATH=VALUE parsed as YAML), reporting problems; with
// `changes`, records what they change so that undo_changes can restore the tree exactly.
void apply_overrides(Tree& tree, std::span<const Override> overrides, Problems& problems,
                     std::vector<TreeChange>* changes = nullptr);
// Undoes `changes` (last first), leaving the tree as it was before they were made; clears them.
void undo_changes(Tree& tree, std::vector<TreeChange>& changes);
// Validates the tree (adding to `problems`), throws InputError with every problem, else
// returns the scenario (without Scenario::resolved_yaml).
Scenario validated_scenario(const Tree& tree, const std::string& file_name, Problems& problems);

}  // namespace entangle::loader
