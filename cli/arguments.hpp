#pragma once
// The parsed command line, shared by every command of `entangle`.
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/scenario/loader.hpp"
#include "engine/simulation.hpp"
#include "engine/time.hpp"
#include "output/results_reader.hpp"
#include "output/results_writer.hpp"

namespace entangle::cli {

// Bad command-line use: exit code 2.
struct BadUsage : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Makes the folder a results file goes into. A path that names a folder, or a folder that
// cannot be made, is bad usage: found before anything runs, not after the work is done.
// So is one that names something other than a results file (or an empty file): the
// scenario file being run, a note, a device. Only a results file is ever replaced.
inline void prepare_output_path(const std::filesystem::path& out) {
    if (out.empty()) throw BadUsage("-o: expected the results file's name, found ''");
    if (std::filesystem::is_directory(out))
        throw BadUsage("output '" + out.string() + "' is a folder; give the results file's name (for example " +
                       (out / "results.h5").string() + ")");
    // A .partial may be one a kill cut short, unreadable yet entangle's: its HDF5 signature will do.
    for (const std::filesystem::path& target : {out, partial_path_for(out)}) {
        std::error_code error;
        const std::filesystem::file_status status = std::filesystem::status(target, error);
        if (!std::filesystem::exists(status)) continue;
        if (!std::filesystem::is_regular_file(status))
            throw BadUsage("output '" + target.string() +
                           "' exists and is not a regular file (a folder, device, pipe or socket); give a results "
                           "file's name");
        const bool replaceable = std::filesystem::file_size(target, error) == 0 ||
                                 (target == out ? is_results_file(target) : is_hdf5_file(target));
        if (!replaceable)
            throw BadUsage("output '" + target.string() +
                           "' exists and does not open as an entangle results file (another kind of file, or one "
                           "cut short): entangle replaces only its own results files; remove it or give another name");
    }
    if (!out.has_parent_path()) return;
    std::error_code error;
    std::filesystem::create_directories(out.parent_path(), error);
    if (error)
        throw BadUsage("output '" + out.string() + "': cannot make the folder '" + out.parent_path().string() +
                       "': " + error.message());
}

// Prints, as "note:" lines, what the scenario states that its run never sees
// (scenario_notes): events after the end, contracts over before the start. At
// most five, then how many more, so that a long scenario cut short is not buried in them.
inline void print_scenario_notes(const Scenario& sc, std::ostream& out) {
    const std::vector<std::string> notes = scenario_notes(sc);
    constexpr std::size_t shown = 5;
    for (std::size_t i = 0; i < notes.size() && i < shown; ++i) out << "note: " << sc.source_path << ": " << notes[i] << "\n";
    if (notes.size() > shown) out << "note: " << sc.source_path << ": and " << notes.size() - shown << " more like these\n";
}

struct Arguments {
    std::string command;
    std::vector<std::string> positional;
    std::optional<std::string> output;
    std::optional<int> replications;
    std::optional<std::uint64_t> seed;
    int threads = 0;
    std::vector<Override> overrides;
    bool quiet = false;
    bool resume = false;                // sweep
    std::optional<std::string> shard;   // sweep: "I/N"
    std::vector<Month> at;              // compare
    bool independent = false;           // compare
    const std::atomic<bool>* interrupted = nullptr;  // set by SIGINT/SIGTERM
};

}  // namespace entangle::cli
