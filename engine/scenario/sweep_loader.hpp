#pragma once
// Sweep files (FORMATS.md "Sweep file", docs/sweeps.md) -> SweepSpec, and the
// scenario of each sweep point: the base scenario with the CLI's --set
// overrides, the sweep's output choices and the point's parameter values
// applied as overrides, validated like any scenario. Problems are reported
// like a scenario's (file:line:col, nearest key), all at once.
#include <filesystem>
#include <memory>
#include <span>
#include <vector>

#include "engine/scenario.hpp"
#include "engine/scenario/loader.hpp"
#include "engine/sweep.hpp"

namespace entangle {

namespace loader {
struct Tree;
}

// True when the YAML file's top level has a `sweep:` key (a file that does
// not parse is not a sweep file: load_scenario then reports why).
bool is_sweep_file(const std::filesystem::path& file);

// Reads and checks a sweep file (not yet its base scenario). Throws InputError.
SweepSpec load_sweep(const std::filesystem::path& file);
SweepSpec load_sweep_text(std::string_view yaml, const std::string& file_name);

// The scenarios of a sweep's points. The base file is read and merged once,
// with the fixed overrides applied; each point applies its own to a tree it
// borrows and then puts back as it was. Const use from several threads at
// once is safe.
class SweepScenarios {
public:
    // Reads the base scenario (throws InputError).
    SweepScenarios(const SweepSpec& spec, std::vector<Override> cli_overrides);
    ~SweepScenarios();
    SweepScenarios(SweepScenarios&&) noexcept;

    // The base scenario with the CLI's and the sweep's output overrides.
    const Scenario& base() const { return base_; }
    // The scenario of one point. Throws InputError located at the sweep
    // file's parameter declarations, naming the point and its values.
    Scenario at(const SweepDesign& design, std::uint32_t point) const;
    // Builds the scenarios of the points where some parameter takes its
    // smallest or largest value in the design (every value, for `values`):
    // the likely failures, reported before anything runs. Throws InputError.
    void check(const SweepDesign& design) const;

private:
    class PointTrees;

    const SweepSpec* spec_;
    std::vector<Override> fixed_;  // CLI --set, then the sweep's outputs
    Scenario base_;
    std::unique_ptr<PointTrees> trees_;  // the base's tree with fixed_ applied, and copies to lend
};

}  // namespace entangle
