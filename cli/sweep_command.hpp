#pragma once
// `entangle sweep` and `entangle merge` (FORMATS.md; docs/sweeps.md,
// docs/cluster.md), kept apart from main.cpp's other commands.
#include <atomic>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/arguments.hpp"

namespace entangle::cli {

// Exit codes as main.cpp's: 0, 1 (thrown), 2 (thrown), 130 (returned).
int command_sweep(const Arguments& args, int argc, char** argv);
int command_merge(const Arguments& args);
// `entangle validate` of a sweep file: the sweep and its base at the design's extreme points.
int command_validate_sweep(const Arguments& args);

}  // namespace entangle::cli
