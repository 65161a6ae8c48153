// Sweeps: designs against their defining properties, statistics against
// hand-computed values, sweep-file errors, the journal's torn-tail handling,
// and per-point statistics equal to statistics of the replications run alone.
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>
#include <boost/random/sobol.hpp>

#include "agents/standard_model.hpp"
#include "engine/scenario/sweep_loader.hpp"
#include "engine/simulation.hpp"
#include "engine/sweep.hpp"
#include "engine/sweep_runner.hpp"
#include "output/sweep_journal.hpp"

using namespace entangle;
namespace fs = std::filesystem;

namespace {

const std::string data_dir = std::string(ENTANGLE_TEST_DATA_DIR) + "/sweep/";

std::vector<InputProblem> problems_of(const std::string& yaml) {
    try {
        (void)load_sweep_text(yaml, data_dir + "inline.yaml");
    } catch (const InputError& e) {
        return e.problems();
    }
    return {};
}

bool mentions(const std::vector<InputProblem>& problems, const std::string& text) {
    return std::any_of(problems.begin(), problems.end(),
                       [&](const InputProblem& p) { return p.format().find(text) != std::string::npos; });
}

// Keeps each point's records.
struct KeepingSink final : PointSink {
    std::map<std::uint32_t, std::vector<ReplicationRecord>> points;
    void write_point(std::uint32_t point, std::vector<ReplicationRecord>& records) override {
        points[point] = records;
    }
};

}  // namespace

TEST_CASE("sweep design: Latin hypercube puts one point in each stratum of every dimension") {
    const std::uint32_t n = 50;
    const std::vector<double> u = unit_design(DesignMethod::lhs, n, 3, 42);
    for (std::size_t d = 0; d < 3; ++d) {
        std::set<int> strata;
        for (std::uint32_t p = 0; p < n; ++p) {
            CHECK(u[p * 3 + d] >= 0.0);
            CHECK(u[p * 3 + d] < 1.0);
            strata.insert(static_cast<int>(std::floor(u[p * 3 + d] * n)));
        }
        CHECK(strata.size() == n);  // 50 distinct strata of 50: a permutation
    }
    CHECK(unit_design(DesignMethod::lhs, n, 3, 42) == u);  // the same seed, the same design
    CHECK(unit_design(DesignMethod::lhs, n, 3, 43) != u);
}

TEST_CASE("sweep design: scrambled Sobol' points form a (0 m 2)-net in the first two dimensions") {
    // 2^4 points of the first two Sobol' dimensions (a (0, 2)-sequence, kept so
    // by Owen scrambling): every elementary box of area 1/16 (1x16, 2x8, 4x4,
    // 8x2, 16x1 cells) holds exactly one point.
    const std::uint32_t n = 16;
    const std::vector<double> u = unit_design(DesignMethod::sobol, n, 2, 9);
    for (int a = 0; a <= 4; ++a) {
        const int cols = 1 << a, rows = 1 << (4 - a);
        std::set<int> cells;
        for (std::uint32_t p = 0; p < n; ++p)
            cells.insert(static_cast<int>(u[p * 2] * cols) * rows + static_cast<int>(u[p * 2 + 1] * rows));
        CHECK(cells.size() == n);
    }
    // Scrambling depends on the seed; the net property does not.
    CHECK(unit_design(DesignMethod::sobol, n, 2, 10) != u);
}

TEST_CASE("sweep design: Sobol' points computed from their index are Boost's sequence") {
    const std::size_t dims = 3;
    const std::uint32_t n = 4100;  // past 2^12: direction numbers up to bit 12 in use
    const UnitDesign design(DesignMethod::sobol, n, dims, 9);
    boost::random::sobol engine(static_cast<unsigned>(dims));  // point 0 is the origin, then Boost's order
    std::uint32_t mismatches = 0;
    for (std::uint32_t p = 0; p < n; ++p)
        for (std::size_t d = 0; d < dims; ++d) {
            const std::uint32_t raw = p == 0 ? 0u : static_cast<std::uint32_t>(engine() >> 32);
            mismatches += design.sobol_unscrambled(p, d) != raw ? 1 : 0;
        }
    CHECK(mismatches == 0);
    for (const std::uint32_t p : {4099u, 65537u, 1234567u, 4000000000u}) {  // far points, by Boost's own jump
        CAPTURE(p);
        boost::random::sobol jump(static_cast<unsigned>(dims));
        jump.seed(p - 1);  // Boost's seed(i) moves to point i + 1
        for (std::size_t d = 0; d < dims; ++d)
            CHECK(design.sobol_unscrambled(p, d) == static_cast<std::uint32_t>(jump() >> 32));
    }
    // Scrambled coordinates depend on the point's index only, not on the number of points.
    const UnitDesign more(DesignMethod::sobol, 2 * n, dims, 9);
    for (std::uint32_t p = 0; p < n; p += 97) CHECK(more.at(p, 1) == design.at(p, 1));
}

TEST_CASE("sweep design: the keyed permutation maps 0..n-1 onto itself and depends on its key") {
    for (const std::uint32_t n : {1u, 2u, 3u, 5u, 16u, 17u, 1000u, 4097u}) {
        CAPTURE(n);
        std::vector<bool> seen(n, false);
        for (std::uint32_t x = 0; x < n; ++x) {
            const std::uint32_t y = keyed_permutation(x, n, 77);
            REQUIRE(y < n);
            CHECK_FALSE(seen[y]);
            seen[y] = true;
        }
    }
    std::uint32_t moved = 0;
    for (std::uint32_t x = 0; x < 1000; ++x) moved += keyed_permutation(x, 1000, 1) != keyed_permutation(x, 1000, 2);
    CHECK(moved > 900);
}

TEST_CASE("sweep design: a random point does not depend on how many points there are") {
    const std::vector<double> five = unit_design(DesignMethod::random, 5, 2, 3);
    const std::vector<double> ten = unit_design(DesignMethod::random, 10, 2, 3);
    CHECK(std::equal(five.begin(), five.end(), ten.begin()));
}

TEST_CASE("sweep design: a grid enumerates the product of the levels with the last parameter fastest") {
    const SweepSpec spec = load_sweep_text(R"(
sweep: {base: ../../../scenarios/minimal.yaml, design: {method: grid}}
parameters:
  a.b: {values: [x, y]}
  c.d: {min: 1, max: 3, levels: 3}
  e.f: {values: [true, false]}
)", data_dir + "inline.yaml");
    const SweepDesign design(spec, 1);
    REQUIRE(design.points() == 12);
    // point = ((a * 3) + c) * 2 + e
    CHECK(design.text(0, 0) == "x");
    CHECK(design.text(0, 1) == "1");
    CHECK(design.text(0, 2) == "true");
    CHECK(design.text(1, 2) == "false");
    CHECK(design.text(2, 1) == "2");
    CHECK(design.text(5, 1) == "3");
    CHECK(design.text(6, 0) == "y");
    CHECK(design.value(6, 0) == 1);  // text values are stored by index
    CHECK(design.value(11, 2) == 0);
}

TEST_CASE("sweep design: a value given as a map or a list is one line of YAML in labels and messages") {
    const SweepSpec spec = load_sweep_text(R"(
sweep: {base: ../../../scenarios/minimal.yaml, design: {method: grid}}
parameters:
  a.b: {values: [{2025-01: 1, 2030-01: 2}, [1, 2], 3]}
)", data_dir + "inline.yaml");
    const SweepDesign design(spec, 4);
    CHECK(design.text(0, 0) == "{2025-01: 1, 2030-01: 2}");
    CHECK(design.text(1, 0) == "[1, 2]");
    CHECK(design.text(2, 0) == "3");
}

TEST_CASE("sweep design: ranges and log ranges and distributions map the unit coordinate") {
    const SweepSpec spec = load_sweep_text(R"(
sweep: {base: ../../../scenarios/minimal.yaml, design: {method: lhs, points: 200}}
parameters:
  a.b: {min: 2, max: 5}
  c.d: {min: 1, max: 100, log: true}
  e.f: {dist: normal, mean: 10, sd: 2}
)", data_dir + "inline.yaml");
    const SweepDesign design(spec, 4);
    double mean = 0;
    for (std::uint32_t p = 0; p < design.points(); ++p) {
        CHECK(design.value(p, 0) >= 2);
        CHECK(design.value(p, 0) <= 5);
        CHECK(design.value(p, 1) >= 1);
        CHECK(design.value(p, 1) <= 100);
        mean += design.value(p, 2) / design.points();
    }
    // Stratified normal quantiles: the sample mean is within a few sd/n of 10.
    CHECK(mean == doctest::Approx(10).epsilon(0.01));
    // A log range: half the points below the geometric midpoint 10.
    int below = 0;
    for (std::uint32_t p = 0; p < design.points(); ++p) below += design.value(p, 1) < 10;
    CHECK(below == 100);
}

TEST_CASE("sweep statistics: mean and std and min and max and linear quantiles by hand with NaN ignored") {
    const std::vector<Statistic> stats{*parse_statistic("mean"), *parse_statistic("std"), *parse_statistic("min"),
                                       *parse_statistic("max"),  *parse_statistic("p05"), *parse_statistic("p50"),
                                       *parse_statistic("p95"),  *parse_statistic("p100")};
    std::vector<double> values{4, NAN, 1, 3, 2};
    std::vector<double> out(stats.size());
    compute_statistics(stats, values, out);
    CHECK(out[0] == doctest::Approx(2.5));
    CHECK(out[1] == doctest::Approx(std::sqrt(5.0 / 3.0)));  // sum of squares 5, n - 1 = 3
    CHECK(out[2] == 1);
    CHECK(out[3] == 4);
    CHECK(out[4] == doctest::Approx(1.15));  // h = 3 * 0.05 = 0.15 between 1 and 2
    CHECK(out[5] == doctest::Approx(2.5));
    CHECK(out[6] == doctest::Approx(3.85));
    CHECK(out[7] == 4);
    std::vector<double> one{7};
    compute_statistics(stats, one, out);
    CHECK(out[0] == 7);
    CHECK(std::isnan(out[1]));  // no spread from one value
    CHECK(out[5] == 7);
    std::vector<double> none{NAN, NAN};
    compute_statistics(stats, none, out);
    CHECK(std::all_of(out.begin(), out.end(), [](double v) { return std::isnan(v); }));
    CHECK_FALSE(parse_statistic("p101"));
    CHECK_FALSE(parse_statistic("median"));
}

TEST_CASE("sweep file: problems are located and suggest the nearest key") {
    const auto p = problems_of(R"(sweep:
  base: ../../../scenarios/minimal.yaml
  replicatons: 4
  design: {method: lhs}
parameters:
  a.b: {min: 1}
outputs:
  statistics: [mean, median]
)");
    CHECK(mentions(p, "inline.yaml:3:3: unknown key 'replicatons' in sweep; did you mean 'replications'?"));
    CHECK(mentions(p, "points: a lhs design needs the number of points"));
    CHECK(mentions(p, "inline.yaml:6:8: parameters.a.b: a range needs both min and max; max is missing"));
    CHECK(mentions(p, "inline.yaml:8:22: outputs.statistics: unknown statistic 'median'"));
    const auto grid = problems_of(R"(sweep: {base: x.yaml, design: {method: grid, points: 5}}
parameters:
  a.b: {min: 1, max: 2}
  c.d: {values: [1, 2]}
)");
    CHECK(mentions(grid, "a range in a grid design needs levels"));
    const auto mismatch = problems_of(R"(sweep: {base: x.yaml, design: {method: grid, points: 5}}
parameters:
  c.d: {values: [1, 2, 1]}
)");
    CHECK(mentions(mismatch, "the value '1' is listed twice"));
    // Counts too large for an int are reported, not wrapped round.
    const auto huge = problems_of(R"(sweep: {base: x.yaml, replications: 99999999999, design: {method: grid}}
parameters:
  a.b: {min: 1, max: 2, levels: 0}
)");
    CHECK(mentions(huge, "inline.yaml:1:37: sweep.replications: 99999999999 is out of range; expected a value in "
                         "[1, 1000000]"));
    // At most a million, as for a scenario's replications (what a results file can hold).
    const auto million = problems_of(R"(sweep: {base: x.yaml, replications: 2147483647, design: {method: grid}}
parameters:
  a.b: {values: [1, 2]}
)");
    CHECK(mentions(million, "inline.yaml:1:37: sweep.replications: 2147483647 is out of range; expected a value in "
                            "[1, 1000000]"));
    CHECK(mentions(huge, "parameters.a.b.levels: 0 is out of range; expected a value >= 1"));
    // Past 64 bits, the key's own range.
    const auto past_64_bits = problems_of(R"(sweep: {base: x.yaml, design: {method: lhs, points: 99999999999999999999}}
parameters:
  a.b: {min: 1, max: 2, levels: 99999999999999999999}
)");
    CHECK(mentions(past_64_bits, "inline.yaml:1:53: sweep.design.points: 99999999999999999999 is out of range; "
                                 "expected a value in [1, 4294967295]"));
    CHECK(mentions(past_64_bits, "inline.yaml:3:33: parameters.a.b.levels: 99999999999999999999 is out of range; "
                                 "expected a value in [1, 2147483647]"));
}

TEST_CASE("sweep file: a second YAML document is reported at its line, not ignored") {
    const auto p = problems_of("sweep: {base: x.yaml, design: {method: grid}}\nparameters:\n  a.b: {values: [1, 2]}\n"
                               "---\nparameters:\n  c.d: {values: [3, 4]}\n");
    REQUIRE(p.size() == 1);
    CHECK(p[0].format() == data_dir + "inline.yaml:4:1: a second YAML document; a sweep file holds one");
}

TEST_CASE("sweep file: sweep.name names the results file, so it follows scenario.name's rule") {
    const auto named = [](const std::string& name) {
        return problems_of("sweep: {name: " + name + ", base: x.yaml, design: {method: grid}}\n"
                           "parameters:\n  a.b: {values: [1, 2]}\n");
    };
    const std::string expected =
        "inline.yaml:1:15: sweep.name: expected a name of lowercase letters, digits and '_', at most 100 "
        "characters (it names the results file), found ";
    CHECK(mentions(named("../../tmp/x"), expected + "'../../tmp/x'"));
    CHECK(mentions(named(std::string(101, 'a')), expected + "'" + std::string(40, 'a') + "...' (101 characters)"));
    CHECK(named("growth_vs_power").empty());
}

TEST_CASE("sweep scenarios: a base that cannot be opened is reported at the base: value") {
    const SweepSpec spec = load_sweep_text(R"(sweep:
  design: {method: grid}
  base: nowhere.yaml
parameters:
  a.b: {values: [1, 2]}
)", data_dir + "inline.yaml");
    try {
        const SweepScenarios scenarios(spec, {});
        FAIL("no InputError");
    } catch (const InputError& e) {
        REQUIRE(e.problems().size() == 1);
        CHECK(e.problems()[0].format() == data_dir + "inline.yaml:3:9: sweep.base: cannot open scenario file '" +
                                              data_dir + "nowhere.yaml' (no such file)");
    }
}

TEST_CASE("sweep file: a parameter of the run itself (months, step, seed, outputs) is refused at its line") {
    // Each would give points of different shapes (the file has one) or be overridden by the sweep's own.
    const auto p = problems_of(R"(sweep: {base: x.yaml, design: {method: grid}}
parameters:
  scenario.end: {values: [2025-06, 2025-12]}
  outputs.network: {values: [false, true]}
  scenario.seed: {values: [1, 2]}
  firms.labco.lab.training_growth: {values: [2, 3]}
)");
    CHECK(mentions(p, "inline.yaml:3:3: parameters.scenario.end: a sweep varies the model, not the run"));
    CHECK(mentions(p, "inline.yaml:4:3: parameters.outputs.network: a sweep varies the model, not the run"));
    CHECK(mentions(p, "inline.yaml:5:3: parameters.scenario.seed: a sweep varies the model, not the run"));
    CHECK_FALSE(mentions(p, "training_growth"));
}

TEST_CASE("sweep scenarios: a bad parameter path is reported at its line in the sweep file") {
    const SweepSpec spec = load_sweep_text(R"(sweep: {base: ../../../scenarios/minimal.yaml, design: {method: random, points: 3}}
parameters:
  firms.labco.lab.training_grwth: {min: 2, max: 3}
)", data_dir + "inline.yaml");
    const SweepScenarios scenarios(spec, {});
    const SweepDesign design(spec, 1);
    try {
        scenarios.check(design);
        FAIL("expected an InputError");
    } catch (const InputError& e) {
        REQUIRE(!e.problems().empty());
        const std::string text = e.problems().front().format();
        CHECK(text.find("/sweep/inline.yaml:3:3: at sweep point") != std::string::npos);
        CHECK(text.find("did you mean 'training_growth'") != std::string::npos);
    }
}

TEST_CASE("sweep scenarios: events.<id>.enabled switches a dated event per point") {
    const SweepSpec spec = load_sweep(data_dir + "keep.yaml");
    const SweepScenarios scenarios(spec, {});
    const SweepDesign design(spec, 5);
    REQUIRE(design.points() == 4);
    const Scenario on = scenarios.at(design, 0);
    const Scenario off = scenarios.at(design, 2);
    REQUIRE(on.events.size() == 1);
    CHECK(on.events[0].enabled);
    CHECK_FALSE(off.events[0].enabled);
    // The shock doubles the end market from 2024-07 on: visible in the frozen parameter.
    const int step = Month::from_year_month(2024, 8) - on.start;
    CHECK(on.market.end_market_usd.at(step, {}) == doctest::Approx(2 * off.market.end_market_usd.at(step, {})));
    CHECK(on.market.end_market_usd.at(0, {}) == doctest::Approx(off.market.end_market_usd.at(0, {})));
}

TEST_CASE("sweep scenarios: a point's scenario does not depend on the points built before it") {
    // Points reuse one tree, undoing their overrides after each build, failing points included.
    // (The undoing itself is checked node by node in test_scenario_loader.cpp.)
    const SweepSpec spec = load_sweep_text(R"(sweep:
  base: ../../../scenarios/minimal.yaml
  design: {method: grid}
parameters:
  firms.labco.lab.training_growth: {values: [2, -1, 3]}
  market.end_market_growth: {values: [0.5, 1.5]}
  market.posted_markup: {values: [0.1, 0.2]}
)", data_dir + "inline.yaml");
    const SweepDesign design(spec, 7);
    REQUIRE(design.points() == 12);
    const auto failure = [&](const SweepScenarios& scenarios, std::uint32_t p) -> std::string {
        try {
            (void)scenarios.at(design, p);
        } catch (const InputError& e) {
            return e.what();
        }
        return "";
    };
    const SweepScenarios reused(spec, {});
    for (std::uint32_t p = 0; p < design.points(); ++p) (void)failure(reused, p);
    const agents::StandardModel model;
    const auto record_of = [&](const Scenario& sc, std::uint32_t p) {
        ReplicationRecord record;
        run_replication(sc, model, StreamKey{7, p, 0}, &record);
        return record;
    };
    const auto same_bits = [](const auto& a, const auto& b) {
        return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(a[0])) == 0;
    };
    for (std::uint32_t p = 0; p < design.points(); ++p) {
        CAPTURE(p);
        const SweepScenarios fresh(spec, {});
        const bool fails = design.text(p, 0) == "-1";
        CHECK(failure(reused, p) == failure(fresh, p));
        if (fails) {
            CHECK(failure(fresh, p).find("training_growth: -1 is out of range") != std::string::npos);
            continue;
        }
        const Scenario a = reused.at(design, p), b = fresh.at(design, p);
        const double growth = std::stod(design.text(p, 0));
        CHECK(a.firms[*a.find_firm("labco")].lab->training_growth.constant_value() == growth);
        const ReplicationRecord ra = record_of(a, p), rb = record_of(b, p);
        CHECK(same_bits(ra.firm, rb.firm));
        CHECK(same_bits(ra.market, rb.market));
        CHECK(same_bits(ra.chip, rb.chip));
        CHECK(same_bits(ra.drawn, rb.drawn));
    }

    // Built on two threads at once, each point sees its own values only (each borrows its own tree).
    std::vector<double> growth(design.points(), 0.0), market(design.points(), 0.0);
    const auto build_every_other = [&](std::uint32_t first) {
        for (int round = 0; round < 20; ++round)
            for (std::uint32_t p = first; p < design.points(); p += 2) {
                if (design.text(p, 0) == "-1") continue;
                const Scenario sc = reused.at(design, p);
                growth[p] = sc.firms[*sc.find_firm("labco")].lab->training_growth.constant_value();
                market[p] = sc.market.end_market_growth.constant_value();
            }
    };
    std::thread other(build_every_other, 1);
    build_every_other(0);
    other.join();
    for (std::uint32_t p = 0; p < design.points(); ++p) {
        if (design.text(p, 0) == "-1") continue;
        CAPTURE(p);
        CHECK(growth[p] == std::stod(design.text(p, 0)));
        CHECK(market[p] == std::stod(design.text(p, 1)));
    }
}

TEST_CASE("sweep runner: per-point statistics equal the statistics of the replications run alone") {
    const SweepSpec spec = load_sweep(data_dir + "small.yaml");
    const SweepScenarios scenarios(spec, {});
    const SweepDesign design(spec, 7);
    const agents::StandardModel model;
    SweepRunOptions options;
    options.threads = 2;
    options.seed = 7;
    options.replications = 4;
    for (const char* s : {"mean", "std", "p05", "p50", "p95"}) options.statistics.push_back(*parse_statistic(s));
    options.series.firm = {FirmSeries::compute};
    options.series.market = {MarketSeries::spot_price};
    ListSource source({0, 1, 2, 3, 4, 5});
    KeepingSink sink;
    const SweepOutcome outcome =
        run_sweep(source, [&](std::uint32_t p) { return scenarios.at(design, p); }, model, options, sink);
    CHECK(outcome.points == 6);
    CHECK(outcome.replications == 24);
    REQUIRE(sink.points.size() == 6);
    // Point 3 by hand: its four replications, keyed (seed, point 3, r).
    const Scenario sc = scenarios.at(design, 3);
    std::vector<ReplicationRecord> reps(4);
    for (int r = 0; r < 4; ++r) run_replication(sc, model, StreamKey{7, 3, static_cast<std::uint64_t>(r)}, &reps[r]);
    const std::vector<ReplicationRecord>& stats = sink.points[3];
    REQUIRE(stats.size() == 5);
    const int t = reps[0].shape.times - 1;
    const auto lab = static_cast<int>(*sc.find_firm("labco"));
    std::vector<double> v;
    for (const ReplicationRecord& r : reps) v.push_back(r.firm_at(FirmSeries::compute, t, lab));
    std::sort(v.begin(), v.end());
    const double mean = (v[0] + v[1] + v[2] + v[3]) / 4;
    CHECK(stats[0].firm_at(FirmSeries::compute, t, lab) == doctest::Approx(mean));
    CHECK(stats[3].firm_at(FirmSeries::compute, t, lab) == doctest::Approx((v[1] + v[2]) / 2));  // p50
    CHECK(stats[4].firm_at(FirmSeries::compute, t, lab) == doctest::Approx(v[2] + 0.85 * (v[3] - v[2])));  // p95: h = 2.85
    // A series not selected is left NaN.
    CHECK(std::isnan(stats[0].firm_at(FirmSeries::cash, t, lab)));
}

TEST_CASE("sweep journal: entries read back and a torn last entry is detected and cut") {
    const fs::path dir = fs::temp_directory_path() / ("entangle_journal_test_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    const fs::path path = journal_path_for(dir / "out.h5", 0);
    auto record = [](std::uint32_t rep, double drawn) {
        ReplicationRecord r;
        r.replication = rep;
        r.drawn = {drawn};
        r.encoded = {{1, 2, 3}, {4, 5}};
        r.events.push_back(EventRow{"2025-01", "shock", "a,b", "text"});
        return r;
    };
    {
        JournalWriter journal(path, "identity", false);
        journal.append(4, {record(0, 1.5), record(1, 2.5)});
        journal.append(2, {record(0, 3.5)});
    }
    const std::uint64_t complete = fs::file_size(path);
    {
        JournalWriter journal(path, "identity", true);
        journal.append(9, {record(0, 9.5)});
    }
    fs::resize_file(path, fs::file_size(path) - 5);  // a kill in the middle of writing point 9
    JournalScan scan = scan_journal(path);
    CHECK(scan.identity == "identity");
    REQUIRE(scan.entries.size() == 2);
    CHECK(scan.entries[0].point == 4);
    CHECK(scan.entries[1].point == 2);
    CHECK(scan.torn);
    CHECK(scan.valid_bytes == complete);
    const std::vector<ReplicationRecord> back = read_journal_entry(path, scan.entries[0]);
    REQUIRE(back.size() == 2);
    CHECK(back[1].replication == 1);
    CHECK(back[1].drawn == std::vector<double>{2.5});
    CHECK(back[1].encoded == record(1, 2.5).encoded);
    CHECK(back[1].events[0].firms == "a,b");
    truncate_journal(path, scan.valid_bytes);
    scan = scan_journal(path);
    CHECK_FALSE(scan.torn);
    CHECK(scan.entries.size() == 2);
    CHECK(find_journals(dir / "out.h5") == std::vector<fs::path>{path});
    fs::remove_all(dir);
}

TEST_CASE("sweep journal: a damaged byte in an entry fails its checksum; a version-1 journal is refused") {
    const fs::path dir = fs::temp_directory_path() / ("entangle_journal_checksum_test_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    const fs::path path = journal_path_for(dir / "out.h5", 0);
    ReplicationRecord r;
    r.drawn = {0.25};
    r.encoded = {std::vector<unsigned char>(1000, 7)};
    std::uint64_t first_entry_end = 0;
    {
        JournalWriter journal(path, "identity", false);
        journal.append(0, {r});
        first_entry_end = fs::file_size(path);
        journal.append(1, {r});
    }
    const std::uint64_t size = fs::file_size(path);
    for (const std::uint64_t at : {first_entry_end + 16 + 500, size - 2}) {  // a chunk byte; the checksum itself
        CAPTURE(at);
        std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
        f.seekg(static_cast<std::streamoff>(at));
        const char old = static_cast<char>(f.get());
        f.seekp(static_cast<std::streamoff>(at));
        f.put(static_cast<char>(old ^ 0x10));
        f.close();
        const JournalScan scan = scan_journal(path);
        REQUIRE(scan.entries.size() == 1);  // the damaged second entry is not taken
        CHECK(scan.entries[0].point == 0);
        CHECK(scan.torn);
        CHECK(scan.valid_bytes == first_entry_end);
        f.open(path, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(static_cast<std::streamoff>(at));
        f.put(old);
    }
    CHECK(scan_journal(path).entries.size() == 2);
    {
        std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(7);
        f.put('1');  // the header of a journal written before its entries had CRC-32s
    }
    try {
        scan_journal(path);
        FAIL("a version-1 journal was read");
    } catch (const OutputError& e) {
        CHECK(std::string(e.what()).find("older entangle") != std::string::npos);
    }
    fs::remove_all(dir);
}
