#pragma once
// The parsed command line, shared by every command of `entangle`.
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/scenario/loader.hpp"
#include "engine/time.hpp"

namespace entangle::cli {

// Bad command-line use: exit code 2.
struct BadUsage : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Makes the folder a results file goes into. A path that names a folder, or a folder that
// cannot be made, is bad usage: found before anything runs, not after the work is done.
inline void prepare_output_path(const std::filesystem::path& out) {
    if (std::filesystem::is_directory(out))
        throw BadUsage("output '" + out.string() + "' is a folder; give the results file's name (for example " +
                       (out / "results.h5").string() + ")");
    if (!out.has_parent_path()) return;
    std::error_code error;
    std::filesystem::create_directories(out.parent_path(), error);
    if (error)
        throw BadUsage("output '" + out.string() + "': cannot make the folder '" + out.parent_path().string() +
                       "': " + error.message());
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
