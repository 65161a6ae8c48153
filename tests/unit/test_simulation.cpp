// The step loop on small worlds built in code: invariants, determinism across
// threads, stream independence, and the market's behaviour.
#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <cstring>
#include <mutex>

#include "agents/standard_model.hpp"
#include "engine/errors.hpp"
#include "engine/runner.hpp"
#include "engine/scenario/loader.hpp"
#include "engine/simulation.hpp"
#include "tests/support.hpp"

using namespace entangle;

namespace {

Scenario small_world(bool with_extra_lab = false) {
    Scenario sc;
    sc.name = "small";
    sc.start = *parse_month("2024-01");
    sc.end = *parse_month("2026-12");
    sc.seed = 11;
    sc.replications = 8;
    // Firms sorted by name: alpha_lab, beta_cloud, chipco, gamma_cloud, (zeta_lab)
    FirmSpec alpha{"alpha_lab", LabRole{}, std::nullopt, std::nullopt};
    alpha.lab->cash = C(2e9);
    alpha.lab->train0_h100e = C(20000);
    alpha.lab->capability0 = C(25);
    FirmSpec beta{"beta_cloud", std::nullopt, CloudRole{}, std::nullopt};
    FirmSpec chipco{"chipco", std::nullopt, std::nullopt, ChipmakerRole{}};
    FirmSpec gamma{"gamma_cloud", std::nullopt, CloudRole{}, std::nullopt};
    for (FirmSpec* cloud : {&beta, &gamma}) {
        cloud->cloud->regions = {0};
        cloud->cloud->fleet = {FleetHolding{0, 0, C(20000), 6}};
        cloud->cloud->power_online = {RegionPower{0, C(40)}};
        cloud->cloud->cash = C(5e9);
        cloud->cloud->capex_budget = C(5e9);
    }
    sc.firms = {alpha, beta, chipco, gamma};
    if (with_extra_lab) {
        FirmSpec zeta{"zeta_lab", LabRole{}, std::nullopt, std::nullopt};
        zeta.lab->cash = C(1e9);
        sc.firms.push_back(zeta);
    }
    sc.firms[2].chipmaker->capacity_per_month = {{0, C(3000)}};
    ChipSpec h100;
    h100.name = "h100";
    h100.vendor = 2;
    h100.release = *parse_month("2023-01");
    sc.chips = {h100};
    RegionSpec region;
    region.name = "us";
    region.power_mw = C(200);
    region.interconnect_mw_per_month = C(20);
    region.delay = Distribution{DistributionShape::uniform, 0, 6, 0, 0, 1e9};
    sc.regions = {region};
    // One uncertain parameter owned by alpha_lab.
    sc.uncertain.push_back(UncertainParam{"firms.alpha_lab.lab.training_growth", "alpha_lab",
                                          Distribution{DistributionShape::lognormal, 2.5, 0.2, 0, 0.1, 10}});
    sc.firms[0].lab->training_growth = Param::uncertain(0);
    return sc;
}

using testing::CollectingSink;

std::map<std::uint32_t, ReplicationRecord> run_all(const Scenario& sc, int threads) {
    const agents::StandardModel model;
    CollectingSink sink;
    RunOptions options;
    options.threads = threads;
    options.seed = sc.seed;
    const auto tasks = replication_tasks(sc, 0, sc.replications);
    const RunOutcome outcome = run_tasks(tasks, model, options, &sink);
    CHECK(outcome.completed == tasks.size());
    return std::move(sink.records);
}

bool bitwise_equal(const ReplicationRecord& a, const ReplicationRecord& b) {
    const auto same = [](const auto& x, const auto& y) {
        return x.size() == y.size() && std::memcmp(x.data(), y.data(), x.size() * sizeof(x[0])) == 0;
    };
    return same(a.firm, b.firm) && same(a.market, b.market) && same(a.chip, b.chip) &&
           same(a.capacity_flow, b.capacity_flow) && same(a.equity, b.equity) && same(a.drawn, b.drawn);
}

}  // namespace

TEST_CASE("a small world runs with every invariant checked each step") {
    const Scenario sc = small_world();
    const auto records = run_all(sc, 2);
    REQUIRE(records.size() == 8);
    const ReplicationRecord& r = records.begin()->second;
    CHECK(r.shape.times == 36);
    // The lab buys compute every month and its capability never falls.
    double last_capability = 0;
    for (int t = 0; t < r.shape.times; ++t) {
        CHECK(r.firm_at(FirmSeries::compute, t, 0) > 0);
        CHECK(r.firm_at(FirmSeries::capability, t, 0) >= last_capability);
        last_capability = r.firm_at(FirmSeries::capability, t, 0);
        CHECK(r.market_at(MarketSeries::spot_volume, t) > 0);
    }
    // Roles that do not apply are NaN, not zero.
    CHECK(std::isnan(r.firm_at(FirmSeries::capability, 0, 1)));
}

TEST_CASE("results are bit-for-bit the same on 1 and 2 threads") {
    const Scenario sc = small_world();
    const auto one = run_all(sc, 1);
    const auto two = run_all(sc, 2);
    REQUIRE(one.size() == two.size());
    for (const auto& [rep, record] : one) CHECK(bitwise_equal(record, two.at(rep)));
    // And replications differ from each other (the streams are live).
    CHECK_FALSE(bitwise_equal(one.at(0), one.at(1)));
}

TEST_CASE("adding a firm leaves the other firms' random draws unchanged") {
    const Scenario base = small_world(false);
    const Scenario more = small_world(true);
    for (std::uint64_t rep = 0; rep < 5; ++rep) {
        const StreamKey key{base.seed, 0, rep};
        CHECK(draw_uncertain(base, key) == draw_uncertain(more, key));
        CHECK(make_stream(key, "us", "build_delay")() == make_stream(key, "us", "build_delay")());
    }
}

TEST_CASE("a broken invariant stops the run with the step and the amounts") {
    // Fleet needing more power than is online is refused before step 0.
    Scenario sc = small_world();
    sc.firms[1].cloud->fleet[0].units = C(1e6);
    const agents::StandardModel model;
    CHECK_THROWS_WITH_AS(run_replication(sc, model, StreamKey{1, 0, 0}, nullptr),
                         doctest::Contains("draws"), ModelInputError);
}

TEST_CASE("a run carried past what a double holds stops at the first overflowing value, named") {
    // Algorithmic progress doubles effective compute every algo_doubling_months: 1024
    // doublings pass 1e308 FLOP. At 2 months a doubling that is 170 years after 2024.
    std::string text = testing::read_file(std::string(ENTANGLE_SOURCE_DIR) + "/scenarios/minimal.yaml");
    const std::size_t end = text.find("end: 2025-12");
    REQUIRE(end != std::string::npos);
    text.replace(end, 12, "end: 2300-12");
    const std::vector<Override> faster = {{"market.algo_doubling_months", "2"}};
    const Scenario sc = load_scenario_text(text, "minimal_long.yaml", faster);
    const agents::StandardModel model;
    try {
        run_replication(sc, model, StreamKey{sc.seed, 0, 0}, nullptr);
        FAIL("the run did not stop");
    } catch (const InvariantViolation& e) {
        const std::string message = e.what();
        CAPTURE(message);
        CHECK(message.find("state: labco's capability is inf (not a finite number)") != std::string::npos);
        CHECK(message.find("invariant broken at step ") == 0);
        // 1024 doublings of 2 months are 171 years; the lab's growing training compute and
        // its start above 1 FLOP bring the overflow some years sooner, never before 2100.
        const std::size_t at = message.find('(');
        REQUIRE(at != std::string::npos);
        const int year = std::stoi(message.substr(at + 1, 4));
        CHECK(year > 2100);
        CHECK(year < 2195);
    }
}

TEST_CASE("flows are recorded per month whatever the step: a quarterly run's totals match a monthly run's") {
    // revenue, capex and shipped carry "per month" units: a quarterly run records the
    // quarter's monthly average (it recorded quarter totals, three times too large).
    const std::string monthly_text = testing::read_file(std::string(ENTANGLE_SOURCE_DIR) + "/scenarios/minimal.yaml");
    std::string quarterly_text = monthly_text;
    const std::size_t step = quarterly_text.find("step: month");
    REQUIRE(step != std::string::npos);
    quarterly_text.replace(step, 11, "step: quarter");
    Scenario monthly = load_scenario_text(monthly_text, "minimal.yaml");
    Scenario quarterly = load_scenario_text(quarterly_text, "minimal_quarterly.yaml");
    monthly.replications = quarterly.replications = 8;
    REQUIRE(quarterly.months_per_step == 3);
    // Totals over the run, in the series' per-month units times the months each record covers.
    const auto totals = [](const Scenario& sc) {
        const auto records = run_all(sc, 1);
        double revenue = 0, capex = 0, shipped = 0;
        for (const auto& [rep, r] : records)
            for (int t = 0; t < r.shape.times; ++t) {
                for (int f = 0; f < r.shape.firms; ++f) {
                    revenue += r.firm_at(FirmSeries::revenue, t, f) * sc.months_per_step;
                    capex += r.firm_at(FirmSeries::capex, t, f) * sc.months_per_step;
                }
                for (int c = 0; c < r.shape.chips; ++c) shipped += r.chip_at(ChipSeries::shipped, t, c) * sc.months_per_step;
            }
        return std::array<double, 3>{revenue, capex, shipped};
    };
    const auto by_month = totals(monthly), by_quarter = totals(quarterly);
    for (std::size_t k = 0; k < 3; ++k) {
        CAPTURE(k);
        REQUIRE(by_month[k] > 0);
        // The two step sizes give somewhat different markets (coarser decisions), not 3x.
        CHECK(by_quarter[k] / by_month[k] > 0.7);
        CHECK(by_quarter[k] / by_month[k] < 1.4);
    }
}

TEST_CASE("entangled value V = (I - E)^-1 own against hand computations") {
    EntangledValuation valuation;
    Eigen::VectorXd value;
    // A chain: a holds 0.5 of b, b holds 0.4 of c; own values 10, 20, 30.
    // V_c = 30; V_b = 20 + 0.4*30 = 32; V_a = 10 + 0.5*32 = 26.
    std::vector<double> chain{0, 0.5, 0, 0, 0, 0.4, 0, 0, 0};
    Eigen::VectorXd own(3);
    own << 10, 20, 30;
    valuation.solve(chain, own, value);
    CHECK(value[0] == doctest::Approx(26));
    CHECK(value[1] == doctest::Approx(32));
    CHECK(value[2] == doctest::Approx(30));
    // Cross-holding: a holds 0.2 of b, b holds 0.1 of a; own 10, 20.
    // V_a = 10 + 0.2 V_b, V_b = 20 + 0.1 V_a  =>  V_a = 14 / 0.98, V_b = 20 + 1.4 / 0.98.
    std::vector<double> cross{0, 0.2, 0.1, 0};
    Eigen::VectorXd own2(2);
    own2 << 10, 20;
    valuation.solve(cross, own2, value);
    CHECK(value[0] == doctest::Approx(14.0 / 0.98));
    CHECK(value[1] == doctest::Approx(20.0 + 1.4 / 0.98));
    // The factorisation is kept while E is unchanged: new own values alone...
    own2 << 30, 40;
    valuation.solve(cross, own2, value);
    CHECK(value[0] == doctest::Approx((30 + 0.2 * 40) / 0.98));
    CHECK(value[1] == doctest::Approx(40 + 0.1 * (30 + 0.2 * 40) / 0.98));
    // ...and refactorised when one share changes (a holds 0.5 of b now).
    cross[1] = 0.5;
    valuation.solve(cross, own2, value);
    CHECK(value[0] == doctest::Approx((30 + 0.5 * 40) / 0.95));
    // Entirely circular ownership (I - E singular) leaves own values.
    std::vector<double> circular{0, 1, 1, 0};
    valuation.solve(circular, own2, value);
    CHECK(value[0] == 30);
    CHECK(value[1] == 40);
}

TEST_CASE("a cloud's held families are those it holds or has coming, in chip order, listed as it orders") {
    Scenario sc = small_world();
    ChipSpec b200 = sc.chips[0], c300 = sc.chips[0];
    b200.name = "b200";
    c300.name = "c300";
    sc.chips.push_back(b200);
    sc.chips.push_back(c300);
    World w;
    const StreamKey key{sc.seed, 0, 0};
    const std::vector<double> drawn = draw_uncertain(sc, key);
    init_world(w, sc, key, drawn);
    const CloudState& beta = w.clouds[0];
    // It may buy all three families and its fleet is h100 units only.
    CHECK(beta.families == std::vector<ChipId>{0, 1, 2});
    CHECK(beta.held_families == std::vector<ChipId>{0});
    place_chip_order(w, 0, 2, 10, 100, false);
    place_chip_order(w, 0, 2, 5, 100, false);
    CHECK(beta.held_families == std::vector<ChipId>{0, 2});
    place_chip_order(w, 0, 1, 10, 100, true);
    CHECK(beta.held_families == std::vector<ChipId>{0, 1, 2});
    // Rebuilding the lists keeps every family with units installed, delivered or on order.
    list_cloud_families(w);
    CHECK(beta.held_families == std::vector<ChipId>{0, 1, 2});
    CHECK(w.clouds[1].held_families == std::vector<ChipId>{0});
}

TEST_CASE("a cloud whose chips have become free sizes its order without dividing by their zero price") {
    const Scenario sc = load_scenario(std::string(ENTANGLE_TEST_DATA_DIR) + "/model/free_chips.yaml");
    const auto records = run_all(sc, 1);  // every invariant checked each step: NaN cash stopped it
    REQUIRE(records.size() == 2);
    const ReplicationRecord& r = records.begin()->second;
    const int old_chip = 1;  // ch1: free once ch0 supersedes it
    CHECK(r.chip_at(ChipSeries::price, r.shape.times - 1, old_chip) == 0);
    for (int t = 0; t < r.shape.times; ++t)
        for (std::size_t f = 0; f < sc.firms.size(); ++f) CHECK(std::isfinite(r.firm_at(FirmSeries::cash, t, f)));
}

TEST_CASE("a cloud's open chip orders are one order at their average price under pro-rata, not under fifo") {
    for (const Allocation rule : {Allocation::pro_rata, Allocation::strategic, Allocation::fifo}) {
        CAPTURE(static_cast<int>(rule));
        Scenario sc = small_world();
        sc.firms[2].chipmaker->allocation = rule;
        World w;
        const StreamKey key{sc.seed, 0, 0};
        const std::vector<double> drawn = draw_uncertain(sc, key);
        init_world(w, sc, key, drawn);
        const std::size_t before = w.chips[0].orders.size();
        // beta_cloud (cloud 0) orders 10 units at 100 USD, then 30 at 200 USD; gamma_cloud 5 at 150;
        // a contracted (priority) order is never merged.
        place_chip_order(w, 0, 0, 10, 100, false);
        place_chip_order(w, 0, 0, 30, 200, false);
        place_chip_order(w, 1, 0, 5, 150, false);
        place_chip_order(w, 0, 0, 7, 120, true);
        const std::vector<ChipOrder>& orders = w.chips[0].orders;
        CHECK(w.clouds[0].on_order[0] == doctest::Approx(47));
        CHECK(w.chips[0].backlog == doctest::Approx(52));
        if (rule == Allocation::fifo) {
            CHECK(orders.size() == before + 4);
            continue;
        }
        REQUIRE(orders.size() == before + 3);
        const ChipOrder& merged = orders[before];
        CHECK(merged.cloud == 0);
        CHECK(merged.units_left == doctest::Approx(40));
        CHECK(merged.unit_price == doctest::Approx((10 * 100.0 + 30 * 200.0) / 40));  // 175
        CHECK(orders[before + 1].cloud == 1);
        CHECK(orders[before + 2].priority);
    }
}
