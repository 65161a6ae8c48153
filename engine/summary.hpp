#pragma once
// Means over replications of a few headline values at the last recorded month,
// for the summary `entangle run` prints. Accumulates records one at a time.
#include <span>
#include <string>
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

    // The columns of the table, for values read back from a results file.
    static std::span<const FirmSeries> firm_columns() { return columns_; }
    static std::span<const MarketSeries> market_columns() { return market_columns_; }
    // A replication an interrupted run wrote (`run --resume` copies it, not
    // through write()): its values at the last recorded month, [column][firm]
    // and [column] in the columns' order; NaN where the file does not hold them.
    void add_stored(std::span<const double> firm_values, std::span<const double> market_values);

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
    std::vector<double> firm_scratch_, market_scratch_;  // one record's values at the last month
};

}  // namespace entangle
