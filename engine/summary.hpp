#pragma once
// Means over replications of a few headline values at the last recorded month,
// for the summary `entangle run` prints. Accumulates records one at a time.
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/record.hpp"
#include "engine/sink.hpp"

namespace entangle {

class RunSummary final : public RecordSink {
public:
    RunSummary(const RunLayout& layout, RecordSink* next);
    void encode(ReplicationRecord& record) const override {
        if (next_) next_->encode(record);
    }
    void write(const ReplicationRecord& record) override;
    void finish(bool complete) override;
    std::string table() const;  // a per-firm table and market line

    // Replications an interrupted run wrote (`run --resume` copies them, not
    // through write()). `values_at_last(group, series)` gives a recorded series
    // ("firm" or "market" group, FORMATS.md name) at the last recorded month for
    // every replication of the file, [replication][firm] or [replication]; it
    // is asked once per column.
    using StoredValues = std::function<std::vector<double>(std::string_view group, std::string_view series)>;
    void add_stored(std::span<const std::uint32_t> replications, const StoredValues& values_at_last);

private:
    static constexpr FirmSeries columns_[] = {FirmSeries::cash, FirmSeries::revenue, FirmSeries::compute,
                                              FirmSeries::capability, FirmSeries::market_share,
                                              FirmSeries::power_online_mw};
    static constexpr MarketSeries market_columns_[] = {MarketSeries::spot_price, MarketSeries::frontier_capability,
                                                       MarketSeries::total_compute, MarketSeries::end_market_usd};
    RunLayout layout_;
    RecordSink* next_;
    std::size_t records_ = 0;
    std::vector<double> firm_sum_;    // [column][firm]
    std::vector<double> firm_count_;  // non-NaN counts
    std::vector<double> market_sum_, market_count_;
    // Columns the file records: a series left out of outputs.series is left out of the
    // summary too, so that a resumed run (whose copied replications hold only what was
    // recorded) and an uninterrupted one print the same table.
    std::vector<bool> firm_recorded_, market_recorded_;
    void add(std::size_t column_index, double value, bool market);
};

}  // namespace entangle
