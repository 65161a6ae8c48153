#pragma once
// Paired comparison of two scenarios run with common random numbers
// (`entangle compare A B`): headline measures at chosen months, for each the
// means under A and B and the mean paired difference B - A with a 95%
// Student-t interval over replications. Replication r of A and of B share
// every random stream, so their difference carries only the effect of what
// differs between the scenarios, not the noise of the draws.
#include <string>
#include <vector>

#include "engine/record.hpp"
#include "engine/runner.hpp"
#include "engine/scenario.hpp"
#include "engine/sink.hpp"
#include "engine/time.hpp"

namespace entangle {

// A measure read from one replication's record at one recorded month.
struct HeadlineMeasure {
    enum class Kind : std::uint8_t {
        compute_share,     // lab's compute / all labs' compute
        revenue,           // firm's revenue in the month, annualised (x 12)
        capability_lead,   // lab's capability minus the best other lab's
        supplier_hhi,      // lab's supplier concentration
        spot_price,        // market
        vendor_share,      // vendor's share of accelerator sales over the 12 months to the date
    };
    Kind kind = Kind::spot_price;
    int firm = -1;   // firm index, -1 for market measures
    int time = 0;       // index into the recorded months
    int time_from = 0;  // vendor_share: first recorded month of its 12-month window
    std::string name;   // "compute_share"
    std::string firm_name;  // empty for market measures
    std::string month;  // "2026-12"
    std::string units;
};

// The headline measures of a scenario at the given recorded months: compute
// share, capability lead and supplier HHI of every lab, revenue of every firm,
// the spot price, and every chip vendor's share of accelerator sales.
std::vector<HeadlineMeasure> headline_measures(const Scenario& sc, const RunLayout& layout,
                                               const std::vector<int>& times);

// The recorded-month indices for `months` (each must be recorded; throws
// ModelInputError naming the first that is not). Empty: December of the middle
// year of the run and its last recorded month.
std::vector<int> comparison_times(const RunLayout& layout, const std::vector<Month>& months);

double measure_value(const HeadlineMeasure& m, const ReplicationRecord& r, const std::vector<int>& chip_vendor,
                     const std::vector<bool>& is_lab);

struct PairedDifference {
    double mean_a = 0, mean_b = 0;
    double mean_difference = 0, low = 0, high = 0;  // B - A and its 95% interval
    int pairs = 0;  // replications where both values are defined (a month without spot trade has no price)
};

// The mean of b - a over pairs where both are finite, with a Student-t 95%
// interval (none, NaN bounds, with fewer than two pairs).
PairedDifference paired_difference(const std::vector<double>& a, const std::vector<double>& b);

// A's and B's replication r side by side (points 0 and 1), so that an
// interrupted file holds whole pairs; run them with common_stream_point = 0.
std::vector<RunTask> comparison_tasks(const Scenario& a, const Scenario& b, int replications);

// The uncertain parameters of A and then those only B draws: the /params of
// a comparison (a value a point does not draw is NaN there).
std::vector<std::string> compared_parameters(const Scenario& a, const Scenario& b);

// Collects each measure's value per point (0: A, 1: B) and replication from
// the records passing through, then forwards them to the next sink.
class ComparisonSink final : public RecordSink {
public:
    ComparisonSink(const Scenario& a, const Scenario& b, std::vector<HeadlineMeasure> measures, int replications,
                   RecordSink* next);
    // Puts the record's drawn values in compared_parameters order, then forwards.
    void encode(ReplicationRecord& record) const override;
    void write(const ReplicationRecord& record) override;
    void finish(bool complete) override {
        if (next_) next_->finish(complete);
    }
    const std::vector<HeadlineMeasure>& measures() const { return measures_; }
    PairedDifference difference(std::size_t measure) const;
    // One line per measure: A, B, B - A and its interval.
    std::string table() const;

private:
    std::vector<HeadlineMeasure> measures_;
    std::vector<int> chip_vendor_;
    std::vector<bool> is_lab_;
    int replications_;
    RecordSink* next_;
    std::vector<double> values_;  // [point][measure][replication], NaN until written
    std::size_t parameters_ = 0;
    std::vector<std::size_t> slot_[2];  // [point][index in its scenario's uncertain list] -> /params index
};

}  // namespace entangle
