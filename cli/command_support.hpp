#pragma once
// What several commands of `entangle` do before they run: check where the
// results go, and say what the scenario states that its run will never see.
#include <filesystem>
#include <ostream>

#include "engine/scenario.hpp"

namespace entangle::cli {

// Makes the folder a results file goes into. A path that names a folder, or a folder that
// cannot be made, is bad usage (BadUsage): found before anything runs, not after the work
// is done. So is one that names something other than a results file (or an empty file):
// the scenario file being run, a note, a device. Only a results file is ever replaced.
void prepare_output_path(const std::filesystem::path& out);

// Prints, as "note:" lines, what the scenario states that its run never sees
// (scenario_notes): events after the end, contracts over before the start. At
// most five, then how many more, so that a long scenario cut short is not buried in them.
void print_scenario_notes(const Scenario& sc, std::ostream& out);

}  // namespace entangle::cli
