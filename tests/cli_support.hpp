#pragma once
// Running the `entangle` command from a test: its exit code and what it printed.
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "tests/support.hpp"

namespace entangle::testing {

struct CommandResult {
    int exit_code = -1;
    std::string output;  // stdout and stderr together
};

// Runs `entangle ARGUMENTS` (the binary this build made) through the shell.
inline CommandResult run_entangle(const std::string& arguments) {
    const std::string command = std::string(ENTANGLE_BINARY) + " " + arguments + " 2>&1";
    CommandResult result;
    FILE* pipe = popen(command.c_str(), "r");
    REQUIRE(pipe != nullptr);
    std::array<char, 4096> buffer{};
    while (fgets(buffer.data(), buffer.size(), pipe)) result.output += buffer.data();
    const int status = pclose(pipe);
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return result;
}

// Writes a small input file (a scenario, a sweep) for a test.
inline void write_file(const std::filesystem::path& path, const std::string& text) { std::ofstream(path) << text; }

// An empty directory for one test, per process (two suites run at once on one
// machine, from two build trees, never share one), removed when the test ends.
struct ScratchDir {
    std::filesystem::path path;
    explicit ScratchDir(const std::string& name)
        : path(std::filesystem::temp_directory_path() / ("entangle_" + name + "_" + std::to_string(::getpid()))) {
        std::filesystem::remove_all(path);
        std::filesystem::create_directories(path);
    }
    ~ScratchDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path, ignored);
    }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
};

}  // namespace entangle::testing
