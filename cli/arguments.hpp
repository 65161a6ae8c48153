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

struct Arguments {
    std::string command;
    std::vector<std::string> positional;
    std::optional<std::string> output;
    std::optional<int> replications;
    std::optional<std::uint64_t> seed;
    int threads = 0;
    std::vector<Override> overrides;
    bool quiet = false;
    bool resume = false;                // run, sweep
    std::optional<std::string> shard;   // sweep: "I/N"
    std::vector<Month> at;              // compare
    bool independent = false;           // compare
    const std::atomic<bool>* interrupted = nullptr;  // set by SIGINT/SIGTERM
};

}  // namespace entangle::cli
