#include "engine/summary.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace entangle {

RunSummary::RunSummary(const RunLayout& layout, RecordSink* next) : layout_(layout), next_(next) {
    const std::size_t n = layout.firm_names.size() * std::size(columns_);
    firm_sum_.assign(n, 0);
    firm_count_.assign(n, 0);
    market_sum_.assign(std::size(market_columns_), 0);
    market_count_.assign(std::size(market_columns_), 0);
    const auto recorded = [](const std::vector<std::string>& names, std::string_view name) {
        return std::find(names.begin(), names.end(), name) != names.end();
    };
    for (FirmSeries c : columns_)
        firm_recorded_.push_back(recorded(layout.firm_series, firm_series_info[static_cast<std::size_t>(c)].name));
    for (MarketSeries c : market_columns_)
        market_recorded_.push_back(
            recorded(layout.market_series, market_series_info[static_cast<std::size_t>(c)].name));
}

void RunSummary::add(std::size_t i, double value, bool market) {
    if (std::isnan(value)) return;
    (market ? market_sum_ : firm_sum_)[i] += value;
    (market ? market_count_ : firm_count_)[i] += 1;
}

void RunSummary::write(const ReplicationRecord& record) {
    if (next_) next_->write(record);
    ++records_;
    const int last = record.shape.times - 1;
    if (last < 0) return;
    const std::size_t firms = layout_.firm_names.size();
    for (std::size_t c = 0; c < std::size(columns_); ++c)
        if (firm_recorded_[c])
            for (std::size_t f = 0; f < firms; ++f)
                add(c * firms + f, record.firm_at(columns_[c], last, static_cast<int>(f)), false);
    for (std::size_t c = 0; c < std::size(market_columns_); ++c)
        if (market_recorded_[c]) add(c, record.market_at(market_columns_[c], last), true);
}

void RunSummary::add_stored(std::span<const std::uint32_t> replications, const StoredValues& values_at_last) {
    records_ += replications.size();
    if (layout_.times.empty()) return;
    const std::size_t firms = layout_.firm_names.size();
    for (std::size_t c = 0; c < std::size(columns_); ++c) {
        if (!firm_recorded_[c]) continue;
        const std::vector<double> v =
            values_at_last("firm", firm_series_info[static_cast<std::size_t>(columns_[c])].name);
        for (const std::uint32_t r : replications)
            for (std::size_t f = 0; f < firms; ++f) add(c * firms + f, v.at(r * firms + f), false);
    }
    for (std::size_t c = 0; c < std::size(market_columns_); ++c) {
        if (!market_recorded_[c]) continue;
        const std::vector<double> v =
            values_at_last("market", market_series_info[static_cast<std::size_t>(market_columns_[c])].name);
        for (const std::uint32_t r : replications) add(c, v.at(r), true);
    }
}

void RunSummary::finish(bool complete) {
    if (next_) next_->finish(complete);
}

std::string RunSummary::table() const {
    std::string out;
    char line[256];
    const std::size_t firms = layout_.firm_names.size();
    const auto mean = [](double sum, double count) { return count > 0 ? sum / count : NAN; };
    std::snprintf(line, sizeof line, "means over %zu replications at %s\n", records_,
                  layout_.times.empty() ? "-" : format_month(layout_.times.back()).c_str());
    out += line;
    std::snprintf(line, sizeof line, "%-12s %-20s %12s %12s %12s %10s %8s %10s\n", "firm", "roles", "cash $B",
                  "revenue $B/m", "compute kH100e", "capability", "share", "power MW");
    out += line;
    // A series the firm's roles do not have (a chipmaker's compute) is NaN in every
    // replication: shown as "-", as `inspect` shows it.
    const auto cell = [&](double value, int width, int precision) {
        char text[64];
        if (std::isnan(value))
            std::snprintf(text, sizeof text, " %*s", width, "-");
        else
            std::snprintf(text, sizeof text, " %*.*f", width, precision, value);
        out += text;
    };
    for (std::size_t f = 0; f < firms; ++f) {
        const auto col = [&](std::size_t c) { return mean(firm_sum_[c * firms + f], firm_count_[c * firms + f]); };
        std::snprintf(line, sizeof line, "%-12s %-20s", layout_.firm_names[f].c_str(), layout_.firm_roles[f].c_str());
        out += line;
        cell(col(0) / 1e9, 12, 2);
        cell(col(1) / 1e9, 12, 3);
        cell(col(2) / 1e3, 12, 1);
        cell(col(3), 10, 2);
        cell(col(4), 8, 3);
        cell(col(5), 10, 0);
        out += '\n';
    }
    std::snprintf(line, sizeof line,
                  "market: spot price $%.2f/H100e-h, frontier %.2f, total compute %.0f kH100e, end market $%.1fB/yr\n",
                  mean(market_sum_[0], market_count_[0]), mean(market_sum_[1], market_count_[1]),
                  mean(market_sum_[2], market_count_[2]) / 1e3, mean(market_sum_[3], market_count_[3]) / 1e9);
    out += line;
    return out;
}

}  // namespace entangle
