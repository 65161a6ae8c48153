#include "engine/runner.hpp"

#include <exception>
#include <memory>
#include <mutex>
#include <oneapi/tbb/info.h>
#include <oneapi/tbb/parallel_pipeline.h>
#include <oneapi/tbb/task_arena.h>

#include "engine/simulation.hpp"

namespace entangle {

int default_thread_count() { return static_cast<int>(tbb::info::default_concurrency()); }

std::vector<RunTask> replication_tasks(const Scenario& sc, std::uint32_t point, int replications) {
    std::vector<RunTask> tasks;
    tasks.reserve(static_cast<std::size_t>(replications));
    for (int r = 0; r < replications; ++r) tasks.push_back(RunTask{&sc, point, static_cast<std::uint32_t>(r)});
    return tasks;
}

RunOutcome run_tasks(std::span<const RunTask> tasks, const AgentModel& agents, const RunOptions& options,
                     RecordSink* sink) {
    const int threads = options.threads > 0 ? options.threads : default_thread_count();
    RunOutcome outcome;
    std::size_t next = 0;
    // Tokens bound how many records exist at once: a few per thread.
    const std::size_t tokens = static_cast<std::size_t>(threads) * 2;
    tbb::task_arena arena(threads);
    arena.execute([&] {
        tbb::parallel_pipeline(
            tokens,
            tbb::make_filter<void, std::size_t>(tbb::filter_mode::serial_in_order,
                                                [&](tbb::flow_control& control) -> std::size_t {
                                                    const bool stop = options.cancel && options.cancel->load();
                                                    if (next >= tasks.size() || stop) {
                                                        outcome.cancelled = stop && next < tasks.size();
                                                        control.stop();
                                                        return 0;
                                                    }
                                                    return next++;
                                                }) &
                tbb::make_filter<std::size_t, std::shared_ptr<ReplicationRecord>>(
                    tbb::filter_mode::parallel,
                    [&](std::size_t i) {
                        const RunTask& task = tasks[i];
                        const StreamKey key{options.seed, options.common_stream_point.value_or(task.point),
                                            task.replication};
                        auto record = std::make_shared<ReplicationRecord>();
                        run_replication(*task.scenario, agents, key, options.record ? record.get() : nullptr);
                        record->point = task.point;
                        record->replication = task.replication;
                        if (sink && options.record) sink->encode(*record);  // e.g. compression, in parallel
                        return record;
                    }) &
                tbb::make_filter<std::shared_ptr<ReplicationRecord>, void>(
                    // In task order: table rows (contracts, events) are appended as
                    // records arrive, so the file is the same for any thread count.
                    tbb::filter_mode::serial_in_order, [&](std::shared_ptr<ReplicationRecord> record) {
                        if (sink && options.record) sink->write(*record);
                        ++outcome.completed;
                        if (options.progress) options.progress(outcome.completed, tasks.size());
                    }));
    });
    return outcome;
}

}  // namespace entangle
