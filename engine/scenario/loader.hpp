#pragma once
// YAML scenario files -> validated, immutable Scenario. This directory is the
// only code that includes yaml-cpp; this header does not.
#include <filesystem>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "engine/scenario.hpp"

namespace entangle {

// One problem in an input, located as `file:line:col: message`.
struct InputProblem {
    std::string file;   // as given by the user; "--set" for command-line overrides
    int line = 0;       // 1-based; 0 when unknown
    int column = 0;     // 1-based; 0 when unknown
    std::string message;
    std::string format() const;  // "file:line:col: message"
};

// Every problem found in an input, reported together. Maps to exit code 2.
class InputError : public std::runtime_error {
public:
    explicit InputError(std::vector<InputProblem> problems);
    const std::vector<InputProblem>& problems() const { return problems_; }

private:
    std::vector<InputProblem> problems_;
};

// A `--set PATH=VALUE` override: VALUE is parsed as YAML (a number, a word,
// a flow map such as {2025-01: 3, 2030-01: 2}).
struct Override {
    std::string path;   // dotted key path, e.g. firms.openai.lab.training_growth
    std::string value;
};
// Parses "PATH=VALUE"; throws InputError naming the argument when malformed.
Override parse_override(std::string_view argument);

// Loads a scenario file (following `extends`), applies overrides in order,
// validates everything and returns the frozen scenario (paths tabulated).
// Throws InputError with every problem found.
Scenario load_scenario(const std::filesystem::path& file, std::span<const Override> overrides = {});
// The same from text; `file_name` is used in messages and to resolve `extends`.
Scenario load_scenario_text(std::string_view yaml, const std::string& file_name,
                            std::span<const Override> overrides = {});

}  // namespace entangle
