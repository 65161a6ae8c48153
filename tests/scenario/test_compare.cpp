// The paired comparison behind `entangle compare`: its interval against a
// hand computation, and that common random numbers narrow it.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "agents/standard_model.hpp"
#include "engine/compare.hpp"
#include "engine/runner.hpp"
#include "engine/scenario/loader.hpp"
#include "engine/simulation.hpp"

using namespace entangle;

TEST_CASE("compare: the paired difference and its Student-t interval, by hand") {
    // Differences b - a: 1, 2, 3, 6 -> mean 3, sample sd sqrt(14/3), t(0.975, 3) = 3.182446305.
    const PairedDifference d = paired_difference({10, 10, 10, 10}, {11, 12, 13, 16});
    CHECK(d.pairs == 4);
    CHECK(d.mean_a == 10);
    CHECK(d.mean_b == 13);
    CHECK(d.mean_difference == doctest::Approx(3));
    const double half_width = 3.182446305284263 * std::sqrt(14.0 / 3.0) / 2.0;
    CHECK(d.low == doctest::Approx(3 - half_width).epsilon(1e-9));
    CHECK(d.high == doctest::Approx(3 + half_width).epsilon(1e-9));
    // A pair with an undefined value (no spot trade that month) is left out.
    const PairedDifference partial = paired_difference({1, NAN, 3}, {2, 5, NAN});
    CHECK(partial.pairs == 1);
    CHECK(partial.mean_difference == 1);
    CHECK(std::isnan(partial.low));
}

namespace {

// Interval widths of every headline measure at one month, with B on A's
// streams (common) or on its own (independent).
std::vector<double> interval_widths(const Scenario& a, const Scenario& b, int replications, bool common,
                                    std::vector<HeadlineMeasure>& measures) {
    RunLayout layout = make_layout(a, "compare", a.seed, replications, {"A", "B"});
    measures = headline_measures(a, layout, comparison_times(layout, {*parse_month("2026-12")}));
    ComparisonSink sink(a, b, measures, replications, nullptr);
    const std::vector<RunTask> tasks = comparison_tasks(a, b, replications);
    RunOptions options;
    options.seed = a.seed;
    if (common) options.common_stream_point = 0;
    const agents::StandardModel model;
    run_tasks(tasks, model, options, &sink);
    std::vector<double> widths;
    for (std::size_t m = 0; m < measures.size(); ++m) {
        const PairedDifference d = sink.difference(m);
        widths.push_back(d.high - d.low);
    }
    return widths;
}

}  // namespace

TEST_CASE("compare: common random numbers narrow the interval of the paired difference") {
    const std::string base = std::string(ENTANGLE_SOURCE_DIR) + "/scenarios/baseline.yaml";
    const Scenario a = load_scenario(base);
    const Scenario b = load_scenario_text(
        "scenario: {name: cheaper_power, extends: " + base + "}\nregions: {us_east: {power_usd_per_mwh: 50}}\n",
        "cheaper_power.yaml");
    std::vector<HeadlineMeasure> measures;
    const std::vector<double> common = interval_widths(a, b, 16, true, measures);
    const std::vector<double> independent = interval_widths(a, b, 16, false, measures);
    int compared = 0, narrower = 0;
    for (std::size_t m = 0; m < measures.size(); ++m) {
        if (!(independent[m] > 0) || !std::isfinite(common[m])) continue;  // a constant measure has no spread
        ++compared;
        narrower += common[m] < independent[m] ? 1 : 0;
        const HeadlineMeasure& h = measures[m];
        if (h.name == "spot_price" || (h.name == "compute_share" && h.firm_name == "openai") ||
            (h.name == "revenue" && h.firm_name == "nvidia")) {
            INFO(h.name << " " << h.firm_name << ": " << common[m] << " vs " << independent[m]);
            CHECK(common[m] < 0.5 * independent[m]);
        }
    }
    INFO(narrower << " of " << compared << " intervals narrower with common random numbers");
    CHECK(compared > 20);
    CHECK(narrower >= 0.9 * compared);
}
