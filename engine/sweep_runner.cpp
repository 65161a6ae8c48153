#include "engine/sweep_runner.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string_view>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/parallel_pipeline.h>
#include <oneapi/tbb/task_arena.h>

#include "engine/contracts.hpp"
#include "engine/runner.hpp"
#include "engine/simulation.hpp"

namespace entangle {

namespace {

// A point in flight: its scenario and its replications' records.
struct PointState {
    std::uint32_t point = 0;
    Scenario scenario;
    std::vector<ReplicationRecord> records;
};

}  // namespace

std::vector<ReplicationRecord> point_statistics(const std::vector<ReplicationRecord>& reps,
                                                std::span<const Statistic> statistics,
                                                const SeriesSelection& series) {
    const std::size_t n_stats = statistics.size();
    std::vector<ReplicationRecord> out(n_stats);
    if (reps.empty()) return out;
    const RecordShape& shape = reps.front().shape;
    const double nan = std::numeric_limits<double>::quiet_NaN();
    for (std::size_t s = 0; s < n_stats; ++s) {
        out[s].resize(shape);
        std::fill(out[s].firm.begin(), out[s].firm.end(), nan);
        std::fill(out[s].market.begin(), out[s].market.end(), nan);
        std::fill(out[s].chip.begin(), out[s].chip.end(), nan);
        std::fill(out[s].capacity_flow.begin(), out[s].capacity_flow.end(), std::numeric_limits<float>::quiet_NaN());
        std::fill(out[s].equity.begin(), out[s].equity.end(), std::numeric_limits<float>::quiet_NaN());
        out[s].point = reps.front().point;
        out[s].replication = static_cast<std::uint32_t>(s);
        out[s].drawn.assign(reps.front().drawn.size(), nan);
    }
    std::vector<double> values;
    values.reserve(reps.size());
    std::vector<double> result(n_stats);
    // One cell: gather its value from every replication (in replication order), reduce, scatter.
    const auto cell = [&](auto get, auto put) {
        values.clear();
        for (const ReplicationRecord& r : reps) values.push_back(static_cast<double>(get(r)));
        compute_statistics(statistics, values, result);
        for (std::size_t s = 0; s < n_stats; ++s) put(out[s], result[s]);
    };
    const auto span_cells = [&](auto member, std::size_t begin, std::size_t count) {
        for (std::size_t i = begin; i < begin + count; ++i)
            cell([&](const ReplicationRecord& r) { return (r.*member)[i]; },
                 [&](ReplicationRecord& o, double v) {
                     (o.*member)[i] = static_cast<std::remove_reference_t<decltype((o.*member)[i])>>(v);
                 });
    };
    const auto times = static_cast<std::size_t>(shape.times);
    const auto firms = static_cast<std::size_t>(shape.firms);
    const auto chips = static_cast<std::size_t>(shape.chips);
    for (const FirmSeries v : series.firm)
        span_cells(&ReplicationRecord::firm, static_cast<std::size_t>(v) * times * firms, times * firms);
    for (const MarketSeries v : series.market)
        span_cells(&ReplicationRecord::market, static_cast<std::size_t>(v) * times, times);
    for (const ChipSeries v : series.chip)
        span_cells(&ReplicationRecord::chip, static_cast<std::size_t>(v) * times * chips, times * chips);
    if (shape.network) {
        span_cells(&ReplicationRecord::capacity_flow, 0, times * firms * firms);
        span_cells(&ReplicationRecord::equity, 0, times * firms * firms);
    }
    span_cells(&ReplicationRecord::drawn, 0, reps.front().drawn.size());
    return out;
}

SweepOutcome run_sweep(PointSource& source, const std::function<Scenario(std::uint32_t)>& scenario_of,
                       const AgentModel& agents, const SweepRunOptions& options, PointSink& sink) {
    const int threads = options.threads > 0 ? options.threads : default_thread_count();
    const bool keep = options.statistics.empty();
    const auto cancelled = [&] { return options.cancel && options.cancel->load(); };
    SweepOutcome outcome;
    std::atomic<std::size_t> replications_done{0};
    // A token is a point: building the next point's scenario overlaps the
    // replications of the others, and at most threads + 1 points are in memory.
    const auto tokens = static_cast<std::size_t>(threads) + 1;
    tbb::task_arena arena(threads);
    arena.execute([&] {
        tbb::parallel_pipeline(
            tokens,
            tbb::make_filter<void, std::shared_ptr<PointState>>(
                tbb::filter_mode::serial_in_order,
                [&](tbb::flow_control& control) -> std::shared_ptr<PointState> {
                    const auto point = cancelled() ? std::nullopt : source.next();
                    if (!point) {
                        control.stop();
                        return nullptr;
                    }
                    auto st = std::make_shared<PointState>();
                    st->point = *point;
                    return st;
                }) &
                tbb::make_filter<std::shared_ptr<PointState>, std::shared_ptr<PointState>>(
                    tbb::filter_mode::parallel,
                    [&](std::shared_ptr<PointState> st) -> std::shared_ptr<PointState> {
                        st->scenario = scenario_of(st->point);
                        st->records.resize(static_cast<std::size_t>(options.replications));
                        std::atomic<bool> dropped{false};
                        // Replications of the point on any free worker (oneTBB steals across points).
                        tbb::parallel_for(0, options.replications, [&](int rep) {
                            if (cancelled()) {
                                dropped.store(true);
                                return;
                            }
                            ReplicationRecord& record = st->records[static_cast<std::size_t>(rep)];
                            const StreamKey key{options.seed, st->point, static_cast<std::uint64_t>(rep)};
                            record.tables = keep;
                            run_replication(st->scenario, agents, key, &record);
                            record.point = st->point;
                            record.replication = static_cast<std::uint32_t>(rep);
                            if (keep) {
                                sink.encode(record);
                                if (!record.encoded.empty()) {
                                    // The compressed chunks are all the sink needs: free the arrays.
                                    record.firm = {}, record.market = {}, record.chip = {};
                                    record.capacity_flow = {}, record.equity = {};
                                }
                            }
                            replications_done.fetch_add(1);
                        });
                        if (dropped.load()) return nullptr;  // interrupted: the point is not written
                        if (!keep) {
                            std::vector<ReplicationRecord> stats =
                                point_statistics(st->records, options.statistics, options.series);
                            for (ReplicationRecord& r : stats) sink.encode(r);
                            st->records = std::move(stats);
                        }
                        return st;
                    }) &
                tbb::make_filter<std::shared_ptr<PointState>, void>(
                    tbb::filter_mode::serial_out_of_order, [&](std::shared_ptr<PointState> st) {
                        if (!st) return;
                        sink.write_point(st->point, st->records);
                        st->records = {};
                        ++outcome.points;
                        if (options.progress) options.progress(outcome.points, replications_done.load());
                    }));
    });
    outcome.cancelled = cancelled();
    outcome.replications = replications_done.load();
    return outcome;
}


TableTextBounds table_text_bounds(const Scenario& base, const SweepSpec& spec) {
    using Bytes = std::size_t;
    // A swept word may replace any scenario name or id (its --set path).
    Bytes word = 0;
    for (const SweepParameter& p : spec.parameters)
        if (p.kind == SweepParameter::Kind::values && p.type == SweepParameter::Type::text)
            for (const std::string& v : p.values) word = std::max(word, v.size());
    Bytes firm = word, chip = word, scenario_id = word, event_id = word, listed_firms = 0;
    for (const FirmSpec& f : base.firms) firm = std::max(firm, f.name.size());
    for (const ChipSpec& c : base.chips) chip = std::max(chip, c.name.size());
    for (const ContractSpec& c : base.contracts) scenario_id = std::max(scenario_id, c.id.size());
    std::size_t exclusivity_amends = 0;
    for (const EventSpec& e : base.events) {
        event_id = std::max(event_id, e.id.size());
        if (e.contract) scenario_id = std::max(scenario_id, e.contract->id.size());
        if (std::ranges::find(e.changed_keys, "exclusive") != e.changed_keys.end()) ++exclusivity_amends;
        listed_firms = std::max(listed_firms, e.firms.size());
    }
    // format_month: "%04d-%02d" of an int year and a month 1..12, so at most
    // 11 + 1 + 2 bytes ("-2147483648-12") for any Month.
    const Bytes month = 14;
    // Generated ids (engine/procurement.cpp): "auto_<lab>_<seller>_<month>"
    // for capacity, "auto_<lab>_<vendor>_<chip>_<month>" for chip supply,
    // "waiver_<held id>" for the commitment that buys out an exclusive
    // clause. A waiver commitment is signed without the clause, so only an
    // amendment that sets `exclusive` can make one waivable again: at most
    // one "waiver_" more than the scenario has such amendments.
    const Bytes auto_capacity = 5 + firm + 1 + firm + 1 + month;
    const Bytes auto_chip = 5 + firm + 1 + firm + 1 + chip + 1 + month;
    const Bytes waivers = 7 * (1 + exclusivity_amends);
    const Bytes contract_id = std::max({scenario_id, auto_capacity, auto_chip}) + waivers;
    Bytes kind = 1;
    for (const ContractKind k : {ContractKind::capacity, ContractKind::chip_supply, ContractKind::commitment,
                                 ContractKind::licence, ContractKind::revenue_share, ContractKind::equity})
        kind = std::max(kind, std::string_view(contract_kind_name(k)).size());
    // Statuses (pending, active, expired, terminated, amended) and reasons
    // (term, agi, settled, terminated, forbidden, amended) are engine words
    // of at most 10 bytes: 16 leaves room for a new one. A reason is
    // followed by ":<id of the event that ended it>".
    const Bytes word_room = 16;
    // Event kinds are engine words too (sign, waiver, acquire_ignored, ...:
    // at most 15 bytes); `firms` is one firm, a pair "a,b", or an event's
    // list of firms joined by commas.
    const Bytes event_kind = 32;
    const Bytes event_firms = std::max<Bytes>(2 * firm + 1, listed_firms * (firm + 1));
    auto width = [](Bytes b) { return static_cast<std::uint32_t>(std::max<Bytes>(b, 1)); };
    TableTextBounds out;
    out.contract_id = width(contract_id);
    out.contract_kind = width(kind);
    out.firm = width(firm);
    out.month = width(month);
    out.status = width(word_room);
    out.end_reason = width(word_room + 1 + event_id);
    out.event_kind = width(event_kind);
    out.event_firms = width(event_firms);
    return out;
}

}  // namespace entangle
