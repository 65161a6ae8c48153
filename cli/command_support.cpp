#include "cli/command_support.hpp"

#include <string>
#include <system_error>
#include <vector>

#include "cli/arguments.hpp"
#include "engine/simulation.hpp"
#include "output/results_reader.hpp"
#include "output/results_writer.hpp"

namespace entangle::cli {

void prepare_output_path(const std::filesystem::path& out) {
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

void print_scenario_notes(const Scenario& sc, std::ostream& out) {
    const std::vector<std::string> notes = scenario_notes(sc);
    constexpr std::size_t shown = 5;
    for (std::size_t i = 0; i < notes.size() && i < shown; ++i)
        out << "note: " << sc.source_path << ": " << notes[i] << "\n";
    if (notes.size() > shown)
        out << "note: " << sc.source_path << ": and " << notes.size() - shown << " more like these\n";
}

}  // namespace entangle::cli
