#pragma once
// Runs a sweep's points x replications as tasks on oneTBB worker threads and
// hands each point, once all its replications are done, to a PointSink: its
// replications' records (keep_replications) or one record per statistic,
// computed exactly over the point's replications in replication order (so the
// same on any number of threads). Only points in flight are in memory: the
// pipeline's tokens bound the replications running, and a point's records are
// released as soon as the sink has them.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "engine/agent_model.hpp"
#include "engine/record.hpp"
#include "engine/scenario.hpp"
#include "engine/sweep.hpp"

namespace entangle {

// Where a sweep's points come from; called from one thread at a time.
class PointSource {
public:
    virtual ~PointSource() = default;
    virtual std::optional<std::uint32_t> next() = 0;
};

// The points of a list, in order.
class ListSource final : public PointSource {
public:
    explicit ListSource(std::vector<std::uint32_t> points) : points_(std::move(points)) {}
    std::optional<std::uint32_t> next() override {
        if (next_ >= points_.size()) return std::nullopt;
        return points_[next_++];
    }

private:
    std::vector<std::uint32_t> points_;
    std::size_t next_ = 0;
};

// The points of a range in order, skipping those `skip` marks (by position
// in the range; empty: none): a sweep's points to run, 1 bit per point for
// a resume and nothing per point otherwise.
class RangeSource final : public PointSource {
public:
    explicit RangeSource(PointRange range, std::vector<bool> skip = {}) : range_(range), skip_(std::move(skip)) {}
    std::optional<std::uint32_t> next() override {
        while (next_ < range_.size() && next_ < skip_.size() && skip_[next_]) ++next_;
        if (next_ >= range_.size()) return std::nullopt;
        return range_.at(next_++);
    }

private:
    PointRange range_;
    std::vector<bool> skip_;
    std::size_t next_ = 0;
};

class PointSink {
public:
    virtual ~PointSink() = default;
    // Thread-safe, called on worker threads before write_point (the HDF5 output compresses here).
    virtual void encode(ReplicationRecord& /*record*/) const {}
    // One thread at a time: every record of one point, in replication (or statistic) order.
    virtual void write_point(std::uint32_t point, std::vector<ReplicationRecord>& records) = 0;
};

// The series a sweep keeps (statistics are computed for these only).
struct SeriesSelection {
    std::vector<FirmSeries> firm;
    std::vector<MarketSeries> market;
    std::vector<ChipSeries> chip;
};

struct SweepRunOptions {
    int threads = 0;  // 0: all cores
    std::uint64_t seed = 0;
    int replications = 1;
    std::vector<Statistic> statistics;  // empty: keep every replication
    SeriesSelection series;
    const std::atomic<bool>* cancel = nullptr;  // set: start no new replication; unfinished points are dropped
    // After each point is written: points and replications written so far.
    std::function<void(std::size_t points, std::size_t replications)> progress;
};

struct SweepOutcome {
    std::size_t points = 0;        // points written
    std::size_t replications = 0;  // replications run to completion
    bool cancelled = false;
};

// scenario_of(point) builds a point's scenario (called from one thread at a time).
SweepOutcome run_sweep(PointSource& source, const std::function<Scenario(std::uint32_t)>& scenario_of,
                       const AgentModel& agents, const SweepRunOptions& options, PointSink& sink);

// The statistics records of one point from its replications' records (all of
// the same shape): record s holds statistic s of every selected cell and of
// each drawn value; cells not selected stay NaN. No table rows.
std::vector<ReplicationRecord> point_statistics(const std::vector<ReplicationRecord>& replications,
                                                std::span<const Statistic> statistics,
                                                const SeriesSelection& series);

// The widths of the bounded text columns of a sweep's tables (TableTextBounds):
// `base` is the sweep's base scenario (with --set and the sweep's outputs),
// `spec` its parameters: a swept word may stand in for any name or id of
// the scenario, so each name and id is bounded by the longer of the two.
// Every bound covers what the engine writes into that column (the ids
// procurement generates, "waiver_" ids, reasons with the id of the event
// behind them, months as format_month writes any Month); see the definition.
TableTextBounds table_text_bounds(const Scenario& base, const SweepSpec& spec);

}  // namespace entangle
