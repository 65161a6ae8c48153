#pragma once
// Helpers shared by the test files.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <string>

#include "engine/sink.hpp"

namespace entangle::testing {

// The whole of a file: a scenario to vary, or one a command must have left as it was.
inline std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Keeps every record, by replication (records arrive from worker threads).
struct CollectingSink final : RecordSink {
    std::mutex mutex;
    std::map<std::uint32_t, ReplicationRecord> records;
    void write(const ReplicationRecord& r) override {
        std::lock_guard lock(mutex);
        records[r.replication] = r;
    }
    void finish(bool) override {}
};

}  // namespace entangle::testing
