#pragma once
// Means over replications of a few headline values at the last recorded month,
// for the summary `entangle run` prints. Accumulates records one at a time.
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
};

}  // namespace entangle
