// Deals on small scenarios written for the test: exclusivity, termination,
// the AGI clause, take-or-pay, equity and contracted chip supply, each read
// from what a user sees (the flow and equity matrices, the tables).
#include <doctest/doctest.h>

#include <algorithm>
#include <string>

#include "agents/standard_model.hpp"
#include "engine/contracts.hpp"
#include "engine/errors.hpp"
#include "engine/scenario/loader.hpp"
#include "engine/simulation.hpp"

using namespace entangle;

namespace {

// Two clouds, two labs, one chipmaker; 24 months from 2024-01.
const std::string world = R"(
scenario: {name: deals, start: 2024-01, end: 2025-12, seed: 9, replications: 4}
market: {end_market_usd: 4.0e9, end_market_volatility: 0.1}
chips:
  h100: {vendor: chipco, release: 2023-01}
regions:
  us: {power_mw: 400, interconnect_mw_per_month: 10}
firms:
  chipco: {chipmaker: {capacity_per_month: {h100: 2000}}}
  cloud_a: {cloud: {regions: [us], fleet: [{chip: h100, region: us, units: 60000, age_months: 6}], power_online: {us: 100}, cash: 5.0e9}}
  cloud_b: {cloud: {regions: [us], fleet: [{chip: h100, region: us, units: 60000, age_months: 6}], power_online: {us: 100}, cash: 5.0e9}}
  lab_x: {lab: {cash: 3.0e9, train0_h100e: 30000, capability0: 25.5, strategic_value: 6}}
  lab_y: {lab: {cash: 3.0e9, train0_h100e: 20000, capability0: 25.0}}
)";

Scenario load(const std::string& extra, std::vector<std::string> settings = {}) {
    std::vector<Override> overrides;
    for (const std::string& setting : settings) overrides.push_back(parse_override(setting));
    return load_scenario_text(world + extra, "deals.yaml", overrides);
}

ReplicationRecord run(const Scenario& sc, std::uint64_t replication = 0) {
    check_runnable(sc);
    const agents::StandardModel model;
    ReplicationRecord r;
    run_replication(sc, model, StreamKey{sc.seed, 0, replication}, &r);
    return r;
}

int firm(const Scenario& sc, const char* name) { return *sc.find_firm(name); }
int month(const Scenario& sc, const char* m) { return *parse_month(m) - sc.start; }

const ContractRow& row(const ReplicationRecord& r, const std::string& id) {
    const auto it = std::find_if(r.contracts.begin(), r.contracts.end(), [&](const ContractRow& c) { return c.id == id; });
    REQUIRE(it != r.contracts.end());
    return *it;
}

}  // namespace

TEST_CASE("deals: an exclusive contract keeps other suppliers out, and its end lets them in the next month") {
    const Scenario sc = load(R"(
contracts:
  - {id: excl, kind: capacity, seller: cloud_a, buyer: lab_x, start: 2024-01, end: 2025-12,
     quantity_h100e: 20000, price_usd_per_h100e_hour: 2.5, exclusive: true}
events:
  - {id: end_excl, at: 2025-01, do: terminate, target: excl, text: exclusivity ends}
)");
    const ReplicationRecord r = run(sc);
    const int a = firm(sc, "cloud_a"), b = firm(sc, "cloud_b"), x = firm(sc, "lab_x");
    const int ends = month(sc, "2025-01");
    for (int t = 0; t < ends; ++t) {
        CHECK(r.flow_at(t, b, x) == 0.0f);
        CHECK(r.flow_at(t, a, x) > 0.0f);
    }
    // Once it is terminated the lab is free: cloud_b supplies it from that month on.
    double from_b = 0;
    for (int t = ends; t < r.shape.times; ++t)
        from_b += r.flow_at(t, b, x);
    CHECK(from_b > 0);
    CHECK(row(r, "excl").status == "terminated");
    CHECK(row(r, "excl").end_reason == "terminated:end_excl");
    const bool logged = std::any_of(r.events.begin(), r.events.end(),
                                    [](const EventRow& e) { return e.kind == "terminate" && e.time == "2025-01"; });
    CHECK(logged);
}

TEST_CASE("deals: capacity under contract counts the contracts in force at the month asked about, and forgets ended ones") {
    // Procurement off: these three are cloud_a's only capacity contracts.
    const Scenario sc = load(R"(
contracts:
  - {id: early, kind: capacity, seller: cloud_a, buyer: lab_x, start: 2024-01, end: 2024-06, quantity_h100e: 1000, price_usd_per_h100e_hour: 2.0}
  - {id: later, kind: capacity, seller: cloud_a, buyer: lab_y, signed: 2024-01, start: 2024-04, end: 2025-12, quantity_h100e: 500, price_usd_per_h100e_hour: 2.0}
  - {id: cut, kind: capacity, seller: cloud_a, buyer: lab_y, start: 2024-01, end: 2025-12, quantity_h100e: 200, price_usd_per_h100e_hour: 2.0}
events:
  - {id: stop, at: 2024-09, do: terminate, target: cut}
)",
                             {"firms.lab_x.lab.contract_share=0", "firms.lab_y.lab.contract_share=0"});
    check_runnable(sc);
    const agents::StandardModel model;
    World w;
    const StreamKey key{sc.seed, 0, 0};
    const std::vector<double> drawn = draw_uncertain(sc, key);
    init_world(w, sc, key, drawn);
    const FirmId a = static_cast<FirmId>(firm(sc, "cloud_a"));
    const Month may_2024 = *parse_month("2024-05"), june_2025 = *parse_month("2025-06");
    for (w.step = 0; w.step < w.steps; ++w.step) {
        step(w, model, nullptr);
        const Month now = w.month();
        CAPTURE(format_month(now));
        const bool early = now <= *parse_month("2024-06"), later = now >= *parse_month("2024-04"),
                   cut = now < *parse_month("2024-09");
        CHECK(capacity_under_contract(w, a, now, ContractSide::sold) ==
              (early ? 1000.0 : 0.0) + (later ? 500.0 : 0.0) + (cut ? 200.0 : 0.0));
        // Months ahead: a term that covers them counts while the contract is in force.
        CHECK(capacity_under_contract(w, a, june_2025, ContractSide::sold) == 500.0 + (cut ? 200.0 : 0.0));
        if (now <= may_2024) CHECK(capacity_under_contract(w, a, may_2024, ContractSide::sold) == 1700.0);
        CHECK(capacity_under_contract(w, static_cast<FirmId>(firm(sc, "lab_y")), now, ContractSide::bought) ==
              (later ? 500.0 : 0.0) + (cut ? 200.0 : 0.0));
        // A contract that ended leaves the seller's list in the contracts phase of the month it ends.
        CHECK(w.indexed_contracts().capacity_by_seller[a].size() ==
              static_cast<std::size_t>(early) + 1 + static_cast<std::size_t>(cut));
    }
}

TEST_CASE("deals: an until_agi licence ends when AGI is declared for the licensor, not before") {
    const Scenario sc = load(R"(
contracts:
  - {id: lic, kind: licence, seller: lab_x, buyer: lab_y, start: 2024-01, end: 2025-12,
     fee_usd_per_year: 1.2e9, until_agi: true}
events:
  - {id: agi_x, at: 2025-03, do: declare_agi, firms: [lab_x]}
)");
    const ReplicationRecord r = run(sc);
    const ContractRow& lic = row(r, "lic");
    CHECK(lic.status == "terminated");
    CHECK(lic.end_reason == "agi");
    // 14 monthly fees of 100M USD (2024-01 .. 2025-02), none from the month of verification on.
    CHECK(lic.value_usd == doctest::Approx(1.2e9 * 24 / 12));
    const auto ended = std::find_if(r.events.begin(), r.events.end(), [](const EventRow& e) { return e.kind == "contract_end"; });
    REQUIRE(ended != r.events.end());
    CHECK(ended->time == "2025-03");
}

TEST_CASE("deals: the AGI panel verifies a lab past the threshold with the monthly hazard") {
    // Every lab starts above the threshold and the hazard is one: verified in the first month.
    const Scenario sc = load(R"(
agi: {threshold: 20, monthly_hazard: 1.0}
contracts:
  - {id: share, kind: revenue_share, seller: lab_y, buyer: lab_x, start: 2024-01, end: 2025-12, share: 0.2, until_agi: true}
)");
    const ReplicationRecord r = run(sc);
    CHECK(row(r, "share").status == "terminated");
    CHECK(row(r, "share").end_reason == "agi");
    const auto verified = std::count_if(r.events.begin(), r.events.end(), [](const EventRow& e) {
        return e.kind == "agi_verified" && e.time == "2024-01";
    });
    CHECK(verified == 2);
    // A threshold never reached: the contract runs its term.
    const Scenario never = load(R"(
agi: {threshold: 60, monthly_hazard: 1.0}
contracts:
  - {id: share, kind: revenue_share, seller: lab_y, buyer: lab_x, start: 2024-01, end: 2025-12, share: 0.2, until_agi: true}
)");
    const ReplicationRecord r2 = run(never);
    CHECK(row(r2, "share").status == "active");  // its term runs to the last simulated month
    CHECK(row(r2, "share").end_reason.empty());
    CHECK(row(r2, "share").value_usd > 0);
}

TEST_CASE("deals: take-or-pay settles the shortfall of a commitment at its end") {
    // lab_y commits to spend 5B USD with cloud_b in 2024 but is kept exclusive to cloud_a:
    // it spends nothing with cloud_b and pays 0.8 of the 5B at the end.
    const Scenario sc = load(R"(
contracts:
  - {id: excl, kind: capacity, seller: cloud_a, buyer: lab_y, start: 2024-01, end: 2025-12,
     quantity_h100e: 10000, price_usd_per_h100e_hour: 2.0, exclusive: true}
  - {id: commit, kind: commitment, seller: cloud_b, buyer: lab_y, start: 2024-01, end: 2024-12,
     value_usd: 5.0e9, take_or_pay: 0.8}
)");
    const ReplicationRecord r = run(sc);
    CHECK(row(r, "commit").status == "expired");
    const auto paid = std::find_if(r.events.begin(), r.events.end(), [](const EventRow& e) { return e.kind == "take_or_pay"; });
    REQUIRE(paid != r.events.end());
    CHECK(paid->time == "2024-12");
    CHECK(paid->text.find("paid 4.0") != std::string::npos);
}

TEST_CASE("deals: an investment moves cash and sets the stake, diluting other holders") {
    const Scenario sc = load(R"(
equity: {cloud_b: {lab_x: 0.20}}
contracts:
  - {id: stake, kind: equity, seller: lab_x, buyer: cloud_a, start: 2024-06, end: 2024-06, value_usd: 2.0e9, share: 0.25}
)");
    const ReplicationRecord r = run(sc);
    const int a = firm(sc, "cloud_a"), b = firm(sc, "cloud_b"), x = firm(sc, "lab_x");
    const auto equity = [&](int t, int holder, int target) {
        return r.equity[(static_cast<std::size_t>(t) * r.shape.firms + holder) * r.shape.firms + target];
    };
    const int before = month(sc, "2024-05"), after = month(sc, "2024-06");
    CHECK(equity(before, a, x) == 0.0f);
    CHECK(equity(before, b, x) == doctest::Approx(0.20));
    CHECK(equity(after, a, x) == doctest::Approx(0.25));
    CHECK(equity(after, b, x) == doctest::Approx(0.20 * 0.75));  // diluted by the new shares
    CHECK(row(r, "stake").value_usd == doctest::Approx(2.0e9));
}

TEST_CASE("deals: contracted chip supply is shipped before open orders") {
    const Scenario sc = load(R"(
contracts:
  - {id: supply, kind: chip_supply, seller: chipco, buyer: cloud_b, chip: h100, start: 2024-01, end: 2025-12,
     units_per_month: 1500, unit_price: 20000, priority: true}
)");
    const ReplicationRecord r = run(sc);
    // Output is 2000 a month; the contract takes 1500 of it every month.
    const int chip = *sc.find_chip("h100");
    for (int t = 1; t < r.shape.times; ++t) CHECK(r.chip_at(ChipSeries::shipped, t, chip) >= 1500.0 - 1e-6);
    CHECK(row(r, "supply").kind == "chip_supply");
}

TEST_CASE("deals: contract parties must have the roles the kind needs") {
    const Scenario sc = load(R"(
contracts:
  - {id: bad, kind: capacity, seller: lab_x, buyer: cloud_a, start: 2024-01, end: 2024-12,
     quantity_h100e: 100, price_usd_per_h100e_hour: 2}
)");
    CHECK_THROWS_WITH_AS(check_runnable(sc), doctest::Contains("seller 'lab_x' needs a cloud role"), ModelInputError);
}

TEST_CASE("deals: a long randomized run with every kind of contract keeps the invariants") {
    const Scenario sc = load(R"(
agi: {threshold: {dist: uniform, min: 25.5, max: 27.5}, monthly_hazard: 0.2}
equity: {cloud_a: {lab_x: 0.3}}
contracts:
  - {id: cap, kind: capacity, seller: cloud_a, buyer: lab_x, start: 2024-03, term_months: 12,
     quantity_h100e: 15000, price_usd_per_h100e_hour: 2.2, ramp_months: 4, sla_credit: 0.5}
  - {id: excl, kind: capacity, seller: cloud_b, buyer: lab_y, start: 2024-01, end: 2024-09,
     quantity_h100e: 9000, price_usd_per_h100e_hour: 2.6, exclusive: true}
  - {id: commit, kind: commitment, seller: cloud_a, buyer: lab_y, start: 2024-01, end: 2025-06, value_usd: 3.0e9, take_or_pay: 0.5}
  - {id: lic, kind: licence, seller: lab_x, buyer: lab_y, start: 2024-06, end: 2025-12, fee_usd_per_year: 6.0e8, until_agi: true}
  - {id: share, kind: revenue_share, seller: cloud_a, buyer: lab_x, start: 2024-01, end: 2025-12, share: 0.1, until_agi: true}
  - {id: supply, kind: chip_supply, seller: chipco, buyer: cloud_a, chip: h100, start: 2024-01, end: 2025-12, units_per_month: 800, unit_price: 22000}
events:
  - {id: credits, at: 2024-04, do: invest, contract: {id: credits_deal, kind: equity, seller: lab_y, buyer: cloud_b,
      start: 2024-04, end: 2024-04, value_usd: 1.0e9, in_kind: true}}
  - {id: late_cap, at: 2024-08, do: sign, contract: {id: late, kind: capacity, seller: cloud_b, buyer: lab_x,
      start: 2024-10, term_months: 9, quantity_h100e: 5000, price_usd_per_h100e_hour: 2.4}}
  - {id: stop, at: 2025-02, do: terminate, target: cap}
  - {id: ban, at: 2024-05, do: forbid, firms: [cloud_b, lab_x], until: 2024-12}
  - {id: reprice, at: 2024-06, do: amend, target: commit, changes: {value_usd: 2.0e9, take_or_pay: 0.8}}
  - {id: merger, at: 2025-01, do: acquire, firms: [cloud_a, cloud_b], value: 4.0e9}
)");
    check_runnable(sc);
    const agents::StandardModel model;
    for (std::uint64_t rep = 0; rep < 60; ++rep) {
        ReplicationRecord r;
        CHECK_NOTHROW(run_replication(sc, model, StreamKey{sc.seed, 0, rep}, &r));  // invariants checked every month
        CHECK(r.contracts.size() == 9);  // the amended commitment has two versions
    }
}

namespace {

std::vector<ContractRow> signed_rows(const ReplicationRecord& r) {
    std::vector<ContractRow> rows;
    for (const ContractRow& c : r.contracts)
        if (c.id.rfind("auto_", 0) == 0) rows.push_back(c);
    return rows;
}

}  // namespace

TEST_CASE("procurement: labs sign term contracts by bargaining, within the diversification limit") {
    const Scenario sc = load("", {"market.bargaining=nash", "firms.lab_x.lab.contract_share=0.8",
                                  "firms.lab_x.lab.contract_term_months=6", "firms.lab_x.lab.max_supplier_share=0.5"});
    const ReplicationRecord r = run(sc);
    const auto rows = signed_rows(r);
    REQUIRE(rows.size() >= 2);
    for (const ContractRow& c : rows) {
        CHECK(c.kind == "capacity");
        CHECK(c.buyer == "lab_x");
        CHECK(c.price_usd_per_h100e_hour > 0);
        CHECK(c.quantity_h100e > 0);
    }
    // The first round splits evenly between the two clouds: no seller gets more than half.
    CHECK(rows[0].signed_month == rows[1].signed_month);
    CHECK(rows[0].seller != rows[1].seller);
    CHECK(rows[0].quantity_h100e == doctest::Approx(rows[1].quantity_h100e));
    // Contracted capacity is delivered: contract_price_mean is set once they start.
    CHECK_FALSE(std::isnan(r.market_at(MarketSeries::contract_price_mean, month(sc, "2024-03"))));
}

TEST_CASE("procurement: a right of first refusal lets its holder take each deal first") {
    const Scenario sc = load(R"(
contracts:
  - {id: base, kind: capacity, seller: cloud_a, buyer: lab_x, start: 2024-01, end: 2025-12,
     quantity_h100e: 1000, price_usd_per_h100e_hour: 2.5, rofr: true}
)",
                             // Rounds small enough that the holder can match deals after its own.
                             {"firms.lab_x.lab.contract_share=0.4", "firms.lab_x.lab.max_supplier_share=0.5"});
    const ReplicationRecord r = run(sc);
    const auto rows = signed_rows(r);
    REQUIRE_FALSE(rows.empty());
    // The holder takes each deal it can deliver; another seller gets one only in a
    // round where the holder has already taken what it can.
    for (const ContractRow& c : rows) {
        if (c.seller == "cloud_a") continue;
        const bool holder_took_one = std::any_of(rows.begin(), rows.end(), [&](const ContractRow& o) {
            return o.seller == "cloud_a" && o.signed_month == c.signed_month;
        });
        CHECK(holder_took_one);
    }
    const bool matched = std::any_of(r.events.begin(), r.events.end(), [](const EventRow& e) {
        return e.kind == "sign" && e.text.find("right of first refusal") != std::string::npos;
    });
    CHECK(matched);
}

TEST_CASE("renegotiation: a lab held back by exclusivity buys a waiver; other suppliers come in after it") {
    // lab_x is exclusive to cloud_b for 5000 H100e but needs far more; cloud_b has
    // promised what it can deliver, so the lab buys out the clause (MODEL.md 8).
    const Scenario sc = load(R"(
contracts:
  - {id: excl, kind: capacity, seller: cloud_b, buyer: lab_x, start: 2024-01, end: 2025-12,
     quantity_h100e: 5000, price_usd_per_h100e_hour: 2.5, exclusive: true}
  - {id: rest_of_b, kind: capacity, seller: cloud_b, buyer: lab_y, start: 2024-01, end: 2025-12,
     quantity_h100e: 60000, price_usd_per_h100e_hour: 2.0}
)",
                             {"firms.lab_x.lab.contract_share=0.9"});
    const ReplicationRecord r = run(sc);
    const auto waiver = std::find_if(r.events.begin(), r.events.end(), [](const EventRow& e) { return e.kind == "waiver"; });
    REQUIRE(waiver != r.events.end());
    CHECK(waiver->firms == "cloud_b,lab_x");
    const ContractRow& commitment = row(r, "waiver_excl");
    CHECK(commitment.kind == "commitment");
    CHECK(commitment.seller == "cloud_b");
    CHECK(commitment.value_usd > 0);
    CHECK_FALSE(row(r, "excl").exclusive);  // the clause is gone; the contract runs on
    CHECK(row(r, "excl").status == "active");
    // From the flow matrix: nobody but cloud_b supplies lab_x before the waiver; others do after.
    const int a = firm(sc, "cloud_a"), x = firm(sc, "lab_x");
    const int waived = *parse_month(waiver->time) - sc.start;
    for (int t = 0; t < waived; ++t)
        CHECK(r.flow_at(t, a, x) == 0.0f);
    double from_a = 0;
    for (int t = waived; t < std::min(waived + 2, r.shape.times); ++t)
        from_a += r.flow_at(t, a, x);
    CHECK(from_a > 0);
    for (const ContractRow& c : signed_rows(r))
        if (c.seller != "cloud_b") CHECK(c.signed_month >= waiver->time);
}

TEST_CASE("events: set, scale and shock change a parameter from their month on") {
    // Production stops in 2025-01 (set), the end market doubles from 2024-07 (shock).
    const Scenario sc = load(R"(
events:
  - {id: halt, at: 2025-01, do: set, target: firms.chipco.chipmaker.capacity_per_month.h100, value: 0}
  - {id: boom, at: 2024-07, do: shock, target: market.end_market_usd, value: 2.0, text: a cheap model widens the market}
)");
    const ReplicationRecord r = run(sc);
    const int chip = *sc.find_chip("h100");
    const int halt = month(sc, "2025-01");
    double before = 0, after = 0;
    for (int t = 0; t < halt; ++t) before += r.chip_at(ChipSeries::shipped, t, chip);
    for (int t = halt; t < r.shape.times; ++t) after += r.chip_at(ChipSeries::shipped, t, chip);
    CHECK(before > 0);
    CHECK(after == 0);
    // M0 enters the end market multiplicatively: the pool jumps by the shock in 2024-07.
    const int boom = month(sc, "2024-07");
    const double jump = r.market_at(MarketSeries::end_market_usd, boom) / r.market_at(MarketSeries::end_market_usd, boom - 1);
    CHECK(jump > 1.6);
    CHECK(jump < 2.5);
    const auto logged = std::count_if(r.events.begin(), r.events.end(),
                                      [](const EventRow& e) { return e.kind == "set" || e.kind == "shock"; });
    CHECK(logged == 2);
}

TEST_CASE("events: a scale event applies to an uncertain parameter in every replication") {
    const Scenario sc = load(R"(
events:
  - {id: half, at: 2025-01, do: scale, target: market.end_market_usd, value: 0.5}
)",
                             {"market.end_market_usd={dist: uniform, min: 3.0e9, max: 5.0e9}"});
    const Param& m0 = sc.market.end_market_usd;
    const std::vector<double> drawn{4.0e9};
    CHECK(m0.at(month(sc, "2024-12"), drawn) == doctest::Approx(4.0e9));
    CHECK(m0.at(month(sc, "2025-01"), drawn) == doctest::Approx(2.0e9));
    CHECK_NOTHROW(run(sc));
}

TEST_CASE("events: a forbidden pair never trades in its window, spot or contract, and trades after it") {
    const Scenario sc = load(R"(
events:
  - {id: ban, at: 2024-04, do: forbid, firms: [cloud_b, lab_x], until: 2025-03}
  - {id: deal, at: 2024-06, do: sign, contract: {id: banned_deal, kind: capacity, seller: cloud_b, buyer: lab_x,
      start: 2024-07, term_months: 6, quantity_h100e: 5000, price_usd_per_h100e_hour: 2.4}}
)");
    const int b = firm(sc, "cloud_b"), a = firm(sc, "cloud_a"), x = firm(sc, "lab_x"), y = firm(sc, "lab_y");
    double before = 0, after = 0, allowed = 0;
    for (std::uint64_t rep = 0; rep < 4; ++rep) {
        const ReplicationRecord r = run(sc, rep);
        for (int t = month(sc, "2024-04"); t <= month(sc, "2025-03"); ++t) {
            CHECK(r.flow_at(t, b, x) == 0.0f);
            allowed += r.flow_at(t, a, x) + r.flow_at(t, b, y);
        }
        for (int t = 0; t < month(sc, "2024-04"); ++t) before += r.flow_at(t, b, x);
        for (int t = month(sc, "2025-04"); t < r.shape.times; ++t) after += r.flow_at(t, b, x);
        // The contract announced inside the window is never signed.
        CHECK(row(r, "banned_deal").status == "terminated");
        CHECK(row(r, "banned_deal").end_reason == "forbidden:ban");
        CHECK(std::any_of(r.events.begin(), r.events.end(), [](const EventRow& e) { return e.kind == "blocked"; }));
    }
    CHECK(before > 0);   // they traded on the spot market before the window
    CHECK(allowed > 0);  // other pairs keep trading in it
    CHECK(after > 0);    // and the pair trades again after it
}

TEST_CASE("events: a forbid between a vendor and a cloud stops its chip orders in the window") {
    const Scenario sc = load(R"(
events:
  - {id: export_ban, at: 2024-01, do: forbid, firms: [chipco, cloud_a]}
)");
    const ReplicationRecord r = run(sc);
    const int a = firm(sc, "cloud_a"), b = firm(sc, "cloud_b");
    double capex_a = 0, capex_b = 0;
    for (int t = 0; t < r.shape.times; ++t) {
        capex_a += r.firm_at(FirmSeries::capex, t, a);
        capex_b += r.firm_at(FirmSeries::capex, t, b);
    }
    CHECK(capex_a == 0.0);  // no chips shipped to it: it may not order them
    CHECK(capex_b > 0.0);
}

TEST_CASE("events: amending an exclusive contract to drop the clause lets other suppliers in the next month") {
    const Scenario sc = load(R"(
contracts:
  - {id: excl, kind: capacity, seller: cloud_a, buyer: lab_x, start: 2024-01, end: 2025-12,
     quantity_h100e: 20000, price_usd_per_h100e_hour: 2.5, exclusive: true}
events:
  - {id: open_up, at: 2025-01, do: amend, target: excl, changes: {exclusive: false, price_usd_per_h100e_hour: 2.0}}
)");
    const ReplicationRecord r = run(sc);
    const int a = firm(sc, "cloud_a"), b = firm(sc, "cloud_b"), x = firm(sc, "lab_x");
    const int amended = month(sc, "2025-01");
    for (int t = 0; t < amended; ++t) CHECK(r.flow_at(t, b, x) == 0.0f);
    double from_b = 0;
    for (int t = amended; t < r.shape.times; ++t) {
        from_b += r.flow_at(t, b, x);
        CHECK(r.flow_at(t, a, x) > 0.0f);  // the contract itself runs on
    }
    CHECK(from_b > 0);
    // Two versions under one id: the first ended by the amendment, the second in force to its term.
    std::vector<ContractRow> versions;
    for (const ContractRow& c : r.contracts)
        if (c.id == "excl") versions.push_back(c);
    REQUIRE(versions.size() == 2);
    CHECK(versions[0].status == "amended");
    CHECK(versions[0].end_reason == "amended:open_up");
    CHECK(versions[0].exclusive);
    CHECK(versions[1].status == "active");  // still in force when the run ends
    CHECK_FALSE(versions[1].exclusive);
    CHECK(versions[1].price_usd_per_h100e_hour == 2.0);
    CHECK(versions[1].signed_month == "2025-01");
}

TEST_CASE("events: an amendment that ends a contract early, and one of a contract not in force") {
    const Scenario sc = load(R"(
contracts:
  - {id: cap, kind: capacity, seller: cloud_a, buyer: lab_x, start: 2024-01, end: 2025-12,
     quantity_h100e: 20000, price_usd_per_h100e_hour: 2.5}
events:
  - {id: shorten, at: 2024-07, do: amend, target: cap, changes: {end: 2024-09}}
  - {id: too_late, at: 2025-03, do: amend, target: cap, changes: {rofr: true}}
)");
    const ReplicationRecord r = run(sc);
    const int a = firm(sc, "cloud_a"), x = firm(sc, "lab_x");
    CHECK(r.contracts.back().id == "cap");
    CHECK(r.contracts.back().end == "2024-09");
    CHECK(r.contracts.back().status == "expired");
    // Capacity beyond spot: 20000 H100e a month under the contract to 2024-09 only.
    CHECK(r.flow_at(month(sc, "2024-09"), a, x) >= 20000.0f * 0.999f);
    CHECK(std::any_of(r.events.begin(), r.events.end(), [](const EventRow& e) { return e.kind == "amend_ignored"; }));
}

TEST_CASE("events: an acquisition pays the target's owners, consolidates its cash and conserves money and capacity") {
    const Scenario sc = load(R"(
equity: {cloud_a: {lab_y: 0.25}}
events:
  - {id: buy_y, at: 2024-07, do: acquire, firms: [cloud_b, lab_y], value: 8.0e9}
)");
    const Scenario without = load(R"(
equity: {cloud_a: {lab_y: 0.25}}
)");
    // Invariants (money, capacity) are checked every month inside the run.
    const ReplicationRecord r = run(sc), base = run(without);
    const int a = firm(sc, "cloud_a"), b = firm(sc, "cloud_b"), y = firm(sc, "lab_y");
    const int t = month(sc, "2024-07"), before = t - 1;
    // The target's account is the acquirer's from then on.
    CHECK(r.firm_at(FirmSeries::cash, before, y) > 0);
    for (int s = t; s < r.shape.times; ++s) CHECK(r.firm_at(FirmSeries::cash, s, y) == 0.0);
    // cloud_a held 25%: it received a quarter of the price that month.
    const double a_gain = r.firm_at(FirmSeries::cash, t, a) - base.firm_at(FirmSeries::cash, t, a);
    CHECK(a_gain == doctest::Approx(0.25 * 8.0e9).epsilon(0.02));
    // The acquirer now holds all of the target; nobody else holds any.
    CHECK(r.equity_at(t, b, y) == 1.0f);
    CHECK(r.equity_at(t, a, y) == 0.0f);
    // The target keeps operating: it still holds compute and earns revenue.
    CHECK(r.firm_at(FirmSeries::compute, r.shape.times - 1, y) > 0);
    CHECK(std::any_of(r.events.begin(), r.events.end(), [](const EventRow& e) { return e.kind == "acquire"; }));
}

TEST_CASE("events: an event between two quarterly steps happens at the next; one before the start at the first step") {
    // Quarterly steps are 2024-01, 2024-04, 2024-07, ...: an acquisition dated 2024-05 used to
    // fall between two steps and never happen.
    const std::string acquisition = R"(
equity: {cloud_a: {lab_y: 0.25}}
events:
  - {id: buy_y, at: 2024-05, do: acquire, firms: [cloud_b, lab_y], value: 8.0e9}
  - {id: old_deal, at: 2023-02, do: sign, contract: {id: old, kind: capacity, seller: cloud_a, buyer: lab_x, start: 2023-03, end: 2023-12, quantity_h100e: 100, price_usd_per_h100e_hour: 2.0}}
)";
    const Scenario quarterly = load(acquisition, {"scenario.step=quarter"});
    REQUIRE(quarterly.months_per_step == 3);
    const ReplicationRecord q = run(quarterly);
    const int y = firm(quarterly, "lab_y"), b = firm(quarterly, "cloud_b");
    CHECK(q.firm_at(FirmSeries::cash, 1, y) > 0);      // 2024-04: before it
    CHECK(q.firm_at(FirmSeries::cash, 2, y) == 0.0);   // 2024-07: the first step after 2024-05
    CHECK(q.equity_at(2, b, y) == 1.0f);
    const auto acquired = std::find_if(q.events.begin(), q.events.end(), [](const EventRow& e) { return e.kind == "acquire"; });
    REQUIRE(acquired != q.events.end());
    CHECK(acquired->time == "2024-07");
    // A contract over before the run began leaves no trace in it.
    CHECK(std::none_of(q.events.begin(), q.events.end(), [](const EventRow& e) { return e.text.find("old_deal") == 0; }));

    // The same acquisition seen from a run that starts after it: it has happened.
    const Scenario late = load(acquisition, {"scenario.start=2024-09"});
    const ReplicationRecord l = run(late);
    for (int s = 0; s < l.shape.times; ++s) CHECK(l.firm_at(FirmSeries::cash, s, y) == 0.0);
    CHECK(l.equity_at(0, b, y) == 1.0f);
}

TEST_CASE("events: a firm is acquired once, and never by a firm it owns") {
    const Scenario sc = load(R"(
events:
  - {id: first, at: 2024-03, do: acquire, firms: [cloud_a, lab_y], value: 1.0e9}
  - {id: again, at: 2024-06, do: acquire, firms: [cloud_b, lab_y], value: 1.0e9}
  - {id: reverse, at: 2024-09, do: acquire, firms: [lab_y, cloud_a], value: 1.0e9}
)");
    CHECK_THROWS_WITH_AS(check_runnable(sc),
                         "deals.yaml: event 'again': 'lab_y' was already acquired by 'cloud_a'\n"
                         "deals.yaml: event 'reverse': 'lab_y' is owned by its target 'cloud_a'",
                         ModelInputError);
}

TEST_CASE("funding: strategic investors take their budgets at the post-money price; outside money the rest") {
    // lab_y: 10 B pre-money, a 4 B round. cloud_a puts in 1 B in kind (its last 1 B
    // of budget), cloud_b 2 B in cash; outside money 1 B. cloud_a held 20% before.
    const Scenario sc = load(R"(
equity: {cloud_a: {lab_y: 0.2}}
)", {});
    Scenario with_investors = sc;
    LabRole& role = *with_investors.firms[static_cast<std::size_t>(firm(sc, "lab_y"))].lab;
    role.investors = {StrategicInvestor{static_cast<FirmId>(firm(sc, "cloud_a")), 1.0e9, true},
                      StrategicInvestor{static_cast<FirmId>(firm(sc, "cloud_b")), 2.0e9, false}};
    World w;
    const std::vector<double> drawn = draw_uncertain(with_investors, StreamKey{with_investors.seed, 0, 0});
    init_world(w, with_investors, StreamKey{with_investors.seed, 0, 0}, drawn);
    const FirmId a = static_cast<FirmId>(firm(sc, "cloud_a")), b = static_cast<FirmId>(firm(sc, "cloud_b")),
                 y = static_cast<FirmId>(firm(sc, "lab_y"));
    const double cash_y = w.firms[y].cash, cash_b = w.firms[b].cash;
    raise_funding_round(w, w.firms[y].lab, 10.0e9, 4.0e9);
    CHECK(w.equity_at(a, y) == doctest::Approx(0.2 * 10.0 / 14.0 + 1.0 / 14.0));
    CHECK(w.equity_at(b, y) == doctest::Approx(2.0 / 14.0));
    CHECK(w.credits[y * w.n_firms() + a] == doctest::Approx(1.0e9));  // in kind: credits, no cash
    CHECK(w.firms[y].cash == doctest::Approx(cash_y + 2.0e9 + 1.0e9));  // cloud_b's cash and outside money
    CHECK(w.firms[b].cash == doctest::Approx(cash_b - 2.0e9));
    CHECK(w.external.outside_funding == doctest::Approx(1.0e9));
    // Budgets are spent: a second round is all outside money and dilutes them.
    raise_funding_round(w, w.firms[y].lab, 14.0e9, 7.0e9);
    CHECK(w.equity_at(b, y) == doctest::Approx(2.0 / 14.0 * 14.0 / 21.0));
    CHECK(w.external.outside_funding == doctest::Approx(8.0e9));
    CHECK(w.event_log.back().kind == "funding_round");
}

TEST_CASE("funding: an in-kind investor needs a cloud role") {
    Scenario sc = load("");
    sc.firms[static_cast<std::size_t>(firm(sc, "lab_y"))].lab->investors = {
        StrategicInvestor{static_cast<FirmId>(firm(sc, "lab_x")), 1.0e9, true}};
    CHECK_THROWS_WITH_AS(check_runnable(sc), doctest::Contains("investor 'lab_x' invests in kind"), ModelInputError);
}

TEST_CASE("procurement: a lab accepts an exclusivity discount only when it beats the option value it gives up") {
    // A round small enough for cloud_a alone to cover (an offer must cover the whole round).
    const std::vector<std::string> common = {"firms.lab_x.lab.contract_share=0.3", "firms.lab_x.lab.contract_term_months=6",
                                             "firms.cloud_a.cloud.exclusivity_discount=0.15",
                                             "firms.cloud_a.cloud.exclusivity_months=12"};
    // Cheap to give up (dispersion 0.05 USD/H100e-h < 15% of a price above 1 USD): it signs exclusively.
    std::vector<std::string> accept = common;
    accept.push_back("firms.lab_x.lab.price_dispersion=0.05");
    const Scenario sc = load("", accept);
    const ReplicationRecord r = run(sc);
    const auto rows = signed_rows(r);
    REQUIRE_FALSE(rows.empty());
    CHECK(rows[0].seller == "cloud_a");
    CHECK(rows[0].exclusive);
    CHECK(rows[0].end == format_month(*parse_month(rows[0].start) + 11));
    // While it runs, nobody else supplies the lab.
    const int a = firm(sc, "cloud_a"), b = firm(sc, "cloud_b"), x = firm(sc, "lab_x");
    for (int t = month(sc, rows[0].start.c_str()); t <= month(sc, rows[0].end.c_str()); ++t) {
        CHECK(r.flow_at(t, b, x) == 0.0f);
        CHECK(r.flow_at(t, a, x) > 0.0f);
    }
    // Dear to give up (dispersion 5 USD/H100e-h): it declines and splits its rounds as before.
    std::vector<std::string> decline = common;
    decline.push_back("firms.lab_x.lab.price_dispersion=5");
    decline.push_back("firms.lab_x.lab.max_supplier_share=0.5");
    const ReplicationRecord d = run(load("", decline));
    const auto declined = signed_rows(d);
    REQUIRE(declined.size() >= 2);
    for (const ContractRow& c : declined) CHECK_FALSE(c.exclusive);
}

TEST_CASE("renegotiation: a clause marked waivable: false is never bought out; an amendment can still drop it") {
    const std::string book = R"(
contracts:
  - {id: excl, kind: capacity, seller: cloud_b, buyer: lab_x, start: 2024-01, end: 2025-12,
     quantity_h100e: 5000, price_usd_per_h100e_hour: 2.5, exclusive: true, waivable: false}
  - {id: rest_of_b, kind: capacity, seller: cloud_b, buyer: lab_y, start: 2024-01, end: 2025-12,
     quantity_h100e: 60000, price_usd_per_h100e_hour: 2.0}
)";
    const Scenario held = load(book, {"firms.lab_x.lab.contract_share=0.9"});
    const ReplicationRecord r = run(held);
    CHECK(std::none_of(r.events.begin(), r.events.end(), [](const EventRow& e) { return e.kind == "waiver"; }));
    const int a = firm(held, "cloud_a"), x = firm(held, "lab_x");
    for (int t = 0; t < r.shape.times; ++t) CHECK(r.flow_at(t, a, x) == 0.0f);
    // A forced waiver: the scenario amends the clause away in 2025-01.
    const Scenario forced = load(book + R"(
events:
  - {id: forced_waiver, at: 2025-01, do: amend, target: excl, changes: {exclusive: false}}
)",
                                 {"firms.lab_x.lab.contract_share=0.9"});
    const ReplicationRecord f = run(forced);
    double from_a = 0;
    for (int t = month(forced, "2025-01"); t < f.shape.times; ++t) from_a += f.flow_at(t, a, x);
    CHECK(from_a > 0);
}

TEST_CASE("procurement: a self-building lab gets chip supply quotes from chipmakers") {
    // builder trains on its own cloud; it is short, and building costs it less than renting.
    const std::string text = R"(
scenario: {name: builder, start: 2024-01, end: 2025-06, seed: 3, replications: 2}
market: {end_market_usd: 4.0e9, end_market_volatility: 0.1}
chips:
  h100: {vendor: chipco, release: 2023-01, unit_cost: 3300, list_price: 25000}
regions:
  us: {power_mw: 2000, interconnect_mw_per_month: 50}
firms:
  chipco: {chipmaker: {capacity_per_month: {h100: 20000}}}
  renter: {cloud: {regions: [us], fleet: [{chip: h100, region: us, units: 20000, age_months: 6}], power_online: {us: 40}, cash: 5.0e9, wacc: 0.3}}
  builder:
    cloud: {regions: [us], fleet: [{chip: h100, region: us, units: 10000, age_months: 6}], power_online: {us: 400}, cash: 3.0e10, sells_capacity: false}
    lab: {cash: 2.0e10, train0_h100e: 60000, capability0: 25.0, strategic_value: 8, contract_share: 0.9, contract_term_months: 12}
)";
    for (const char* protocol : {"nash", "posted"}) {
        const std::vector<Override> protocol_override{parse_override(std::string("market.bargaining=") + protocol)};
        const Scenario sc = load_scenario_text(text, "builder.yaml", protocol_override);
        const ReplicationRecord r = run(sc);
        std::vector<ContractRow> supply;
        for (const ContractRow& c : r.contracts)
            if (c.kind == "chip_supply") supply.push_back(c);
        INFO(protocol);
        REQUIRE_FALSE(supply.empty());
        CHECK(supply[0].seller == "chipco");
        CHECK(supply[0].buyer == "builder");
        CHECK(supply[0].value_usd > 0);
        const std::string signed_text = std::find_if(r.events.begin(), r.events.end(), [](const EventRow& e) {
                                            return e.kind == "sign" && e.firms == "chipco,builder";
                                        })->text;
        if (std::string(protocol) == "posted")
            // The vendor posts its floor (3300 * 1.2) marked up by 20%.
            CHECK(signed_text.find("at 4752 USD a unit") != std::string::npos);
    }
}
