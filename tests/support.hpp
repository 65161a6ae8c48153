#pragma once
// Helpers shared by the test files.
#include <map>
#include <mutex>

#include "engine/sink.hpp"

namespace entangle::testing {

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
