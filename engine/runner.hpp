#pragma once
// Runs replications of one or more scenario points on oneTBB worker threads.
// Every replication depends only on (seed, point, replication), so results
// are the same for any thread count; finished records go to the sink one at a
// time (in task order), and at most a few are in memory at once.
#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>

#include "engine/agent_model.hpp"
#include "engine/scenario.hpp"
#include "engine/sink.hpp"

namespace entangle {

struct RunTask {
    const Scenario* scenario = nullptr;
    std::uint32_t point = 0;
    std::uint32_t replication = 0;
};

struct RunOptions {
    int threads = 0;              // 0: all cores
    std::uint64_t seed = 0;
    bool record = true;           // false: simulate only (benchmarks)
    // Set: every task draws from the streams of this point (common random
    // numbers: `compare` runs A and B as points 0 and 1 on the same streams).
    std::optional<std::uint32_t> common_stream_point;
    const std::atomic<bool>* cancel = nullptr;  // set (e.g. by SIGINT) to stop starting new replications
    // Called after each record is written, from the writing thread.
    std::function<void(std::size_t done, std::size_t total)> progress;
};

struct RunOutcome {
    std::size_t completed = 0;
    bool cancelled = false;
};

RunOutcome run_tasks(std::span<const RunTask> tasks, const AgentModel& agents, const RunOptions& options,
                     RecordSink* sink);

// The tasks of one scenario's replications at one point.
std::vector<RunTask> replication_tasks(const Scenario& sc, std::uint32_t point, int replications);

int default_thread_count();

}  // namespace entangle
