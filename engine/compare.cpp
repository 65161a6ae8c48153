#include "engine/compare.hpp"

#include <algorithm>
#include <boost/math/distributions/students_t.hpp>
#include <cmath>
#include <cstdio>
#include <limits>

#include "engine/errors.hpp"

namespace entangle {
namespace {

constexpr double nan_value = std::numeric_limits<double>::quiet_NaN();

const char* kind_name(HeadlineMeasure::Kind kind) {
    using K = HeadlineMeasure::Kind;
    switch (kind) {
        case K::compute_share: return "compute_share";
        case K::revenue: return "revenue";
        case K::capability_lead: return "capability_lead";
        case K::supplier_hhi: return "supplier_hhi";
        case K::spot_price: return "spot_price";
        case K::vendor_share: return "vendor_share";
    }
    return "";
}

const char* kind_units(HeadlineMeasure::Kind kind) {
    using K = HeadlineMeasure::Kind;
    switch (kind) {
        case K::compute_share:
        case K::supplier_hhi:
        case K::vendor_share: return "1";
        case K::revenue: return "USD per year";
        case K::capability_lead: return "log10 FLOP";
        case K::spot_price: return "USD per H100e-hour";
    }
    return "";
}

double firm_value(const ReplicationRecord& r, FirmSeries s, int t, int f) { return r.firm_at(s, t, f); }

}  // namespace

std::vector<int> comparison_times(const RunLayout& layout, const std::vector<Month>& months) {
    std::vector<int> times;
    const auto index_of = [&](Month m) -> int {
        const auto it = std::ranges::find(layout.times, m);
        return it == layout.times.end() ? -1 : static_cast<int>(it - layout.times.begin());
    };
    if (months.empty()) {
        const Month first = layout.times.front(), last = layout.times.back();
        const int middle_year = (first.year() + last.year()) / 2;
        const int december = index_of(Month::from_year_month(middle_year, 12));
        if (december >= 0 && layout.times[static_cast<std::size_t>(december)] < last) times.push_back(december);
        times.push_back(static_cast<int>(layout.times.size()) - 1);
        return times;
    }
    for (Month m : months) {
        const int t = index_of(m);
        if (t < 0)
            throw ModelInputError("--at " + format_month(m) + ": not a recorded month of the run (" +
                                  format_month(layout.times.front()) + " to " + format_month(layout.times.back()) +
                                  ")");
        times.push_back(t);
    }
    return times;
}

std::vector<HeadlineMeasure> headline_measures(const Scenario& sc, const RunLayout& layout,
                                               const std::vector<int>& times) {
    using K = HeadlineMeasure::Kind;
    std::vector<HeadlineMeasure> out;
    std::vector<int> vendors;
    for (const ChipSpec& chip : sc.chips)
        if (std::ranges::find(vendors, static_cast<int>(chip.vendor)) == vendors.end())
            vendors.push_back(static_cast<int>(chip.vendor));
    std::ranges::sort(vendors);
    for (int t : times) {
        const Month at = layout.times[static_cast<std::size_t>(t)];
        int from = t;
        while (from > 0 && at - layout.times[static_cast<std::size_t>(from - 1)] < 12) --from;
        const auto add = [&](K kind, int firm) {
            out.push_back(HeadlineMeasure{kind, firm, t, from, kind_name(kind),
                                          firm >= 0 ? sc.firms[static_cast<std::size_t>(firm)].name : "",
                                          format_month(at), kind_units(kind)});
        };
        for (int f = 0; f < static_cast<int>(sc.firms.size()); ++f)
            if (sc.firms[static_cast<std::size_t>(f)].lab) add(K::compute_share, f);
        for (int f = 0; f < static_cast<int>(sc.firms.size()); ++f)
            if (sc.firms[static_cast<std::size_t>(f)].lab) add(K::capability_lead, f);
        for (int f = 0; f < static_cast<int>(sc.firms.size()); ++f)
            if (sc.firms[static_cast<std::size_t>(f)].lab) add(K::supplier_hhi, f);
        for (int f = 0; f < static_cast<int>(sc.firms.size()); ++f) add(K::revenue, f);
        add(K::spot_price, -1);
        for (int v : vendors) add(K::vendor_share, v);
    }
    return out;
}

double measure_value(const HeadlineMeasure& m, const ReplicationRecord& r, const std::vector<int>& chip_vendor,
                     const std::vector<bool>& is_lab) {
    using K = HeadlineMeasure::Kind;
    const int t = m.time;
    switch (m.kind) {
        case K::compute_share: {
            double total = 0;
            for (int f = 0; f < r.shape.firms; ++f)
                if (is_lab[static_cast<std::size_t>(f)]) total += firm_value(r, FirmSeries::compute, t, f);
            return total > 0 ? firm_value(r, FirmSeries::compute, t, m.firm) / total : nan_value;
        }
        case K::revenue: return 12.0 * firm_value(r, FirmSeries::revenue, t, m.firm);
        case K::capability_lead: {
            double best_other = -std::numeric_limits<double>::infinity();
            for (int f = 0; f < r.shape.firms; ++f)
                if (f != m.firm && is_lab[static_cast<std::size_t>(f)])
                    best_other = std::max(best_other, firm_value(r, FirmSeries::capability, t, f));
            return std::isfinite(best_other) ? firm_value(r, FirmSeries::capability, t, m.firm) - best_other
                                             : nan_value;
        }
        case K::supplier_hhi: return firm_value(r, FirmSeries::supplier_hhi, t, m.firm);
        case K::spot_price: return r.market_at(MarketSeries::spot_price, t);
        case K::vendor_share: {
            double vendor = 0, total = 0;
            for (int s = m.time_from; s <= t; ++s)
                for (int c = 0; c < r.shape.chips; ++c) {
                    const double sales = r.chip_at(ChipSeries::shipped, s, c) * r.chip_at(ChipSeries::price, s, c);
                    total += sales;
                    if (chip_vendor[static_cast<std::size_t>(c)] == m.firm) vendor += sales;
                }
            return total > 0 ? vendor / total : nan_value;
        }
    }
    return nan_value;
}

PairedDifference paired_difference(const std::vector<double>& a, const std::vector<double>& b) {
    PairedDifference d;
    double sum_a = 0, sum_b = 0, sum_d = 0, sum_d2 = 0;
    for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
        if (!std::isfinite(a[i]) || !std::isfinite(b[i])) continue;
        ++d.pairs;
        sum_a += a[i];
        sum_b += b[i];
        sum_d += b[i] - a[i];
    }
    if (d.pairs == 0) {
        d.mean_a = d.mean_b = d.mean_difference = d.low = d.high = nan_value;
        return d;
    }
    const double n = d.pairs;
    d.mean_a = sum_a / n;
    d.mean_b = sum_b / n;
    d.mean_difference = sum_d / n;
    for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i)
        if (std::isfinite(a[i]) && std::isfinite(b[i])) {
            const double e = b[i] - a[i] - d.mean_difference;
            sum_d2 += e * e;
        }
    if (d.pairs < 2) {
        d.low = d.high = nan_value;
        return d;
    }
    const double standard_error = std::sqrt(sum_d2 / (n - 1) / n);
    const double t = boost::math::quantile(boost::math::students_t(n - 1), 0.975);
    d.low = d.mean_difference - t * standard_error;
    d.high = d.mean_difference + t * standard_error;
    return d;
}

std::vector<RunTask> comparison_tasks(const Scenario& a, const Scenario& b, int replications) {
    std::vector<RunTask> tasks;
    for (int r = 0; r < replications; ++r) {
        tasks.push_back(RunTask{&a, 0, static_cast<std::uint32_t>(r)});
        tasks.push_back(RunTask{&b, 1, static_cast<std::uint32_t>(r)});
    }
    return tasks;
}

std::vector<std::string> compared_parameters(const Scenario& a, const Scenario& b) {
    std::vector<std::string> names;
    for (const Scenario* sc : {&a, &b})
        for (const UncertainParam& u : sc->uncertain)
            if (std::ranges::find(names, u.key_path) == names.end()) names.push_back(u.key_path);
    return names;
}

ComparisonSink::ComparisonSink(const Scenario& a, const Scenario& b, std::vector<HeadlineMeasure> measures,
                               int replications, RecordSink* next)
    : measures_(std::move(measures)), replications_(replications), next_(next) {
    const std::vector<std::string> names = compared_parameters(a, b);
    parameters_ = names.size();
    for (int point = 0; point < 2; ++point)
        for (const UncertainParam& u : (point == 0 ? a : b).uncertain)
            slot_[point].push_back(static_cast<std::size_t>(std::ranges::find(names, u.key_path) - names.begin()));
    for (const ChipSpec& chip : a.chips) chip_vendor_.push_back(static_cast<int>(chip.vendor));
    for (const FirmSpec& firm : a.firms) is_lab_.push_back(firm.lab.has_value());
    values_.assign(2 * measures_.size() * static_cast<std::size_t>(replications_), nan_value);
}

void ComparisonSink::encode(ReplicationRecord& record) const {
    if (record.point < 2 && record.drawn.size() == slot_[record.point].size()) {
        std::vector<double> in_order(parameters_, nan_value);
        for (std::size_t i = 0; i < record.drawn.size(); ++i) in_order[slot_[record.point][i]] = record.drawn[i];
        record.drawn = std::move(in_order);
    }
    if (next_) next_->encode(record);
}

void ComparisonSink::write(const ReplicationRecord& record) {
    if (record.point < 2 && record.replication < static_cast<std::uint32_t>(replications_))
        for (std::size_t m = 0; m < measures_.size(); ++m)
            values_[(record.point * measures_.size() + m) * replications_ + record.replication] =
                measure_value(measures_[m], record, chip_vendor_, is_lab_);
    if (next_) next_->write(record);
}

PairedDifference ComparisonSink::difference(std::size_t measure) const {
    const auto reps = static_cast<std::size_t>(replications_);
    const auto begin_a = values_.begin() + static_cast<std::ptrdiff_t>(measure * reps);
    const auto begin_b = values_.begin() + static_cast<std::ptrdiff_t>((measures_.size() + measure) * reps);
    return paired_difference(std::vector<double>(begin_a, begin_a + static_cast<std::ptrdiff_t>(reps)),
                             std::vector<double>(begin_b, begin_b + static_cast<std::ptrdiff_t>(reps)));
}

std::string ComparisonSink::table() const {
    std::string out;
    char line[256];
    std::snprintf(line, sizeof line, "%-16s %-12s %-8s %12s %12s %12s  %-27s %5s\n", "measure", "firm", "month", "A",
                  "B", "B-A", "95% interval of B-A", "n");
    out += line;
    for (std::size_t m = 0; m < measures_.size(); ++m) {
        const HeadlineMeasure& h = measures_[m];
        const PairedDifference d = difference(m);
        // Revenue in billions keeps the columns readable.
        const double scale = h.kind == HeadlineMeasure::Kind::revenue ? 1e-9 : 1.0;
        if (h.kind == HeadlineMeasure::Kind::revenue && d.mean_a == 0 && d.mean_b == 0) continue;
        const char* mark = d.low > 0 || d.high < 0 ? " *" : "";
        std::snprintf(line, sizeof line, "%-16s %-12s %-8s %12.4g %12.4g %12.4g  [%11.4g, %11.4g]%s %5d\n",
                      (h.name + (scale != 1.0 ? " B$" : "")).c_str(), h.firm_name.c_str(), h.month.c_str(),
                      d.mean_a * scale, d.mean_b * scale, d.mean_difference * scale, d.low * scale, d.high * scale,
                      mark, d.pairs);
        out += line;
    }
    out += "* the 95% interval of the paired difference excludes 0. revenue: B USD per year (month x 12)\n";
    return out;
}

}  // namespace entangle
