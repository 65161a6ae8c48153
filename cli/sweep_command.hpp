#pragma once
// `entangle sweep` and `entangle merge` (FORMATS.md; docs/sweeps.md,
// docs/cluster.md), kept apart from main.cpp's other commands.
#include <atomic>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/scenario/loader.hpp"

namespace entangle::cli {

struct SweepArguments {
    std::vector<std::string> positional;
    std::optional<std::string> output;
    std::optional<int> replications;
    std::optional<std::uint64_t> seed;
    int threads = 0;
    std::vector<Override> overrides;
    bool quiet = false;
    bool resume = false;
    std::optional<std::string> shard;  // "I/N"
    const std::atomic<bool>* interrupted = nullptr;
};

// Bad command-line use (exit code 2), like main.cpp's BadUsage.
struct SweepUsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Exit codes as main.cpp's: 0, 1 (thrown), 2 (thrown), 130 (returned).
int command_sweep(const SweepArguments& args, int argc, char** argv);
int command_merge(const SweepArguments& args);
// `entangle validate` of a sweep file: the sweep and its base at the design's extreme points.
int command_validate_sweep(const SweepArguments& args);

}  // namespace entangle::cli
