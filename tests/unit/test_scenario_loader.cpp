// The YAML scenario loader: every kind of input problem is reported with its
// file:line:col and a message saying what was found and what would do; valid
// files, extends and --set overrides give the Scenario the engine expects.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "engine/scenario/build.hpp"
#include "engine/scenario/loader.hpp"
#include "engine/scenario/tree.hpp"

using namespace entangle;

namespace {

const std::string data_dir = std::string(ENTANGLE_TEST_DATA_DIR) + "/loader/";
// The smallest valid header; tests append the sections they need.
const std::string header = "scenario: {name: t, start: 2024-01, end: 2024-12}\n";
const std::string one_lab = "firms: {openai: {lab: {}}}\n";

// Every problem found loading `yaml` as the file t.yaml, one per line; "" when it loads.
std::string errors(const std::string& yaml, const std::vector<Override>& overrides = {}) {
    try {
        load_scenario_text(yaml, "t.yaml", overrides);
    } catch (const InputError& e) {
        return e.what();
    }
    return "";
}

std::string file_errors(const std::string& path) {
    try {
        load_scenario(path);
    } catch (const InputError& e) {
        return e.what();
    }
    return "";
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

// Two trees are the same when every node has the same kind, text, quoting and
// location, and their maps' keys (with locations) and lists' items match in order.
bool same_tree(const loader::Tree& a, const loader::Tree& b) {
    const auto same_mark = [](const loader::Mark& x, const loader::Mark& y) {
        return x.file == y.file && x.line == y.line && x.column == y.column;
    };
    if (a.kind != b.kind || a.text != b.text || a.quoted != b.quoted || !same_mark(a.mark, b.mark) ||
        a.entries.size() != b.entries.size() || a.items.size() != b.items.size())
        return false;
    for (std::size_t i = 0; i < a.entries.size(); ++i)
        if (a.entries[i].key != b.entries[i].key ||
            !same_mark(a.entries[i].key_mark, b.entries[i].key_mark) ||
            !same_tree(a.entries[i].value, b.entries[i].value))
            return false;
    for (std::size_t i = 0; i < a.items.size(); ++i)
        if (!same_tree(a.items[i], b.items[i])) return false;
    return true;
}

const UncertainParam* find_uncertain(const Scenario& sc, const std::string& key_path) {
    const auto it = std::find_if(sc.uncertain.begin(), sc.uncertain.end(),
                                 [&](const UncertainParam& u) { return u.key_path == key_path; });
    return it == sc.uncertain.end() ? nullptr : &*it;
}

}  // namespace

TEST_CASE("loader: a YAML syntax error is an InputError located at its line and column") {
    try {
        load_scenario_text("scenario: {name: x\n", "t.yaml");
        FAIL("no InputError");
    } catch (const InputError& e) {
        REQUIRE(e.problems().size() == 1);
        const InputProblem& p = e.problems()[0];
        CHECK(p.file == "t.yaml");
        CHECK(p.line == 2);
        CHECK(p.column == 1);
        CHECK(p.format() == "t.yaml:2:1: YAML syntax error: end of map flow not found");
    }
    CHECK(errors(header + "firms:\n  a: {lab: {}}\n   b: 1\n") ==
          "t.yaml:4:4: YAML syntax error: end of map not found");
}

TEST_CASE("loader: a second YAML document is reported at its line, not ignored") {
    // Its keys (here a second firm, and a bad one) were silently dropped.
    CHECK(errors(header + one_lab + "---\nfirms: {anthropic: {lab: {cash: lots}}}\n") ==
          "t.yaml:3:1: a second YAML document; a scenario file holds one");
    CHECK(errors("---\n" + header + one_lab + "...\n---\nmarket: {}\n") ==
          "t.yaml:5:1: a second YAML document; a scenario file holds one");
    // A syntax error in it is reported too, rather than skipped.
    CHECK(errors(header + one_lab + "---\nfirms: {a\n") == "t.yaml:5:1: YAML syntax error: end of map flow not found");
    // One document, with or without its markers, and an empty one after it, hold nothing ignored.
    CHECK(errors("---\n" + header + one_lab).empty());
    CHECK(errors(header + one_lab + "...\n").empty());
    CHECK(errors(header + one_lab + "---\n# nothing\n").empty());
    CHECK(errors(header + one_lab + "---\n---\nmarket: {}\n") ==
          "t.yaml:4:1: a second YAML document; a scenario file holds one");
    // In a --set value too.
    CHECK(errors(header + one_lab, {parse_override("market.lab_power=0.5\n---\n1")}) ==
          "--set:2:1: a second YAML document; a --set value holds one");
}

TEST_CASE("loader: aliases that expand a small file past any scenario's size are refused, not expanded") {
    // 9^7 (4.8 million) values from seven short lines: a "billion laughs" file.
    std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n";
    for (char level = 'b'; level <= 'g'; ++level) {
        const char below = static_cast<char>(level - 1);
        bomb += std::string(1, level) + ": &" + level + " [";
        for (int k = 0; k < 9; ++k) bomb += std::string(k ? ", *" : "*") + below;
        bomb += "]\n";
    }
    const std::string message = errors(bomb);
    CHECK(message.find("the file expands to more than 250000 values") != std::string::npos);
    CHECK(message.find("\n") == std::string::npos);  // one problem, not one per value
}

TEST_CASE("loader: an alias inside its own anchor is refused with its place, not followed down the stack") {
    // The node is its own child: the descent never ends by itself (it crashed on stack overflow).
    const std::string message = errors("firms: &loop\n  a: *loop\n");
    CHECK(message.find("t.yaml:") == 0);
    CHECK(message.find("nested more than 100 levels deep (an alias used inside the anchor it refers to?)") !=
          std::string::npos);
    CHECK(message.find("\n") == std::string::npos);  // one problem
    const std::string in_list = errors(header + "chips: &c [1, *c]\n");
    CHECK(in_list.find("nested more than 100 levels deep") != std::string::npos);
}

TEST_CASE("loader: an unknown key names the nearest valid key, or lists the valid keys") {
    CHECK(errors(header + "firms:\n  openai:\n    lab: {traning_growth: 3}\n") ==
          "t.yaml:4:11: unknown key 'traning_growth' in firms.openai.lab; did you mean 'training_growth'?");
    CHECK(errors(header + one_lab + "markt: {}\n") ==
          "t.yaml:3:1: unknown key 'markt' at the top level; did you mean 'market'?");
    CHECK(
        errors(header + "firms: {a: {chipmaker: {zzz: 1}}}\n") ==
        "t.yaml:2:25: unknown key 'zzz' in firms.a.chipmaker; valid keys: capacity_per_month, pricing, "
        "allocation, "
        "kappa, backlog_target_months, min_margin, max_multiple, strategic_weight, cournot_demand_intercept, "
        "cournot_demand_slope, cash");
    CHECK(errors(header + "firms: {a: {lba: {}}}\n") ==
          "t.yaml:2:12: firms.a: a firm needs at least one role: lab, cloud or chipmaker\n"
          "t.yaml:2:13: unknown key 'lba' in firms.a; did you mean 'lab'?");
}

TEST_CASE("loader: a whole number too large for its field is reported, never wrapped") {
    // 1e11 would wrap to 1215752192 in an int.
    CHECK(errors("scenario: {name: t, start: 2024-01, end: 2024-12, replications: 100000000000}\n" + one_lab) ==
          "t.yaml:1:65: scenario.replications: 100000000000 is out of range; expected a value in [1, 1000000]");
    CHECK(errors(header + "firms:\n  openai:\n    lab: {contract_term_months: 99999999999}\n") ==
          "t.yaml:4:33: firms.openai.lab.contract_term_months: 99999999999 is out of range; expected a value in "
          "[1, 120000]");
    // Past 64 bits too, the key's own range is named, not the 64 bits'.
    CHECK(errors(header + "firms:\n  openai:\n    lab: {contract_term_months: 99999999999999999999}\n") ==
          "t.yaml:4:33: firms.openai.lab.contract_term_months: 99999999999999999999 is out of range; expected a "
          "value in [1, 120000]");
    CHECK(errors(header + "firms:\n  openai:\n    lab: {contract_term_months: -99999999999999999999}\n") ==
          "t.yaml:4:33: firms.openai.lab.contract_term_months: -99999999999999999999 is out of range; expected a "
          "value in [1, 120000]");
    CHECK(errors("scenario: {name: t, start: 2024-01, end: 2024-12, replications: 99999999999999999999}\n" +
                 one_lab) ==
          "t.yaml:1:65: scenario.replications: 99999999999999999999 is out of range; expected a value in "
          "[1, 1000000]");
    CHECK(errors("scenario: {name: t, start: 2024-01, end: 2024-12, seed: 18446744073709551616}\n" + one_lab) ==
          "t.yaml:1:57: scenario.seed: 18446744073709551616 is out of range; expected a value >= 0 of at most "
          "9223372036854775807");
}

TEST_CASE("loader: replications are at most a million, what a results file can hold") {
    const auto replications = [](const std::string& n) {
        return errors("scenario: {name: t, start: 2024-01, end: 2024-12, replications: " + n + "}\n" + one_lab);
    };
    // 2147483647 failed in allocation (std::bad_alloc, exit 1) after creating the .partial.
    CHECK(replications("2147483647") ==
          "t.yaml:1:65: scenario.replications: 2147483647 is out of range; expected a value in [1, 1000000]");
    CHECK(replications("1000001") ==
          "t.yaml:1:65: scenario.replications: 1000001 is out of range; expected a value in [1, 1000000]");
    CHECK(replications("1000000").empty());
    CHECK(replications("0") == "t.yaml:1:65: scenario.replications: 0 is out of range; expected a value in [1, 1000000]");
}

TEST_CASE("loader: a value of the wrong type says what was expected and what was found") {
    CHECK(
        errors(header + "firms:\n  openai:\n    lab: {cash: lots}\n") ==
        "t.yaml:4:17: firms.openai.lab.cash: expected a number, a time path or a distribution, found 'lots'");
    CHECK(
        errors(header + "firms:\n  openai:\n    lab: {cash: [1, 2]}\n") ==
        "t.yaml:4:17: firms.openai.lab.cash: expected a number, a time path or a distribution, found a list");
    CHECK(errors(header + "firms:\n  openai:\n    lab: {funding_cooldown_months: 1.5}\n") ==
          "t.yaml:4:36: firms.openai.lab.funding_cooldown_months: expected a whole number, found '1.5'");
    CHECK(errors(header + "regions: {r: {}}\nfirms:\n  c: {cloud: {regions: [r], sells_capacity: yes}}\n") ==
          "t.yaml:4:45: firms.c.cloud.sells_capacity: expected true or false, found 'yes'");
    CHECK(errors(header + "firms:\n  n: {chipmaker: {pricing: cornot}}\n") ==
          "t.yaml:3:28: firms.n.chipmaker.pricing: expected one of backlog | cournot, found 'cornot'; did "
          "you mean "
          "'cournot'?");
    CHECK(errors(header + "firms:\n  openai:\n    lab: {brand: {mean: 1, sd: 2}}\n") ==
          "t.yaml:4:18: firms.openai.lab.brand: expected a number, a time path {YYYY-MM: value, ...} or a "
          "distribution {dist: ..., ...}, found a map with keys mean, sd (a distribution needs 'dist:')");
    CHECK(errors(header + "firms: [openai]\n") ==
          "t.yaml:2:8: firms: expected a map {name: {...}}, found a list");
}

TEST_CASE("loader: a value out of range names the range") {
    CHECK(errors(header + "firms:\n  openai:\n    lab: {train_share: 1.5}\n") ==
          "t.yaml:4:24: firms.openai.lab.train_share: 1.5 is out of range; expected a value in [0, 1]");
    // Every knot of a time path is checked, and located.
    CHECK(errors(header + "firms:\n  openai:\n    lab: {train_share: {2024-01: 0.5, 2025-01: -0.1}}\n") ==
          "t.yaml:4:48: firms.openai.lab.train_share.2025-01: -0.1 is out of range; expected a value in [0, "
          "1]");
    CHECK(errors(header + "firms:\n  openai:\n    lab: {training_growth: 0}\n") ==
          "t.yaml:4:28: firms.openai.lab.training_growth: 0 is out of range; expected a value > 0");
    CHECK(errors("scenario: {name: t, start: 2024-01, end: 2024-12, replications: 0}\n" + one_lab) ==
          "t.yaml:1:65: scenario.replications: 0 is out of range; expected a value in [1, 1000000]");
}

TEST_CASE("loader: a bad month says a month is YYYY-MM") {
    CHECK(errors("scenario: {name: t, start: 2025-13, end: 2026-12}\n" + one_lab) ==
          "t.yaml:1:28: scenario.start: expected a month as YYYY-MM, found '2025-13'");
    CHECK(errors(header + "firms: {n: {chipmaker: {}}}\nchips: {h: {vendor: n, release: 2024-1}}\n") ==
          "t.yaml:3:33: chips.h.release: expected a month as YYYY-MM, found '2024-1'");
    CHECK(errors(header + "firms:\n  openai:\n    lab: {cash: {2024-13: 1}}\n") ==
          "t.yaml:4:18: firms.openai.lab.cash: expected a month as YYYY-MM, found '2024-13'");
    // A month given as a quoted string is just as good.
    CHECK(errors("scenario: {name: t, start: '2024-01', end: \"2024-12\"}\n" + one_lab) == "");
}

TEST_CASE("loader: the end of a scenario is not before its start") {
    CHECK(errors("scenario: {name: t, start: 2025-01, end: 2024-12}\n" + one_lab) ==
          "t.yaml:1:42: scenario.end: 2024-12 is before start 2025-01");
    CHECK(errors("scenario: {name: t}\n" + one_lab) ==
          "t.yaml:1:11: scenario: missing required key 'start'\n"
          "t.yaml:1:11: scenario: missing required key 'end'");
}

TEST_CASE("loader: an unknown firm, chip or region names the valid ones") {
    const std::string text = header +
                             "firms:\n"
                             "  openai: {lab: {}}\n"
                             "  msft: {cloud: {regions: [us_sout], fleet: [{chip: h10, region: us_south}]}}\n"
                             "regions: {us_south: {}}\n"
                             "chips: {h100: {vendor: opnai, release: 2023-01}}\n";
    CHECK(
        errors(text) ==
        "t.yaml:4:28: firms.msft.cloud.regions: unknown region 'us_sout'; did you mean 'us_south'? (regions: "
        "us_south)\n"
        "t.yaml:4:53: firms.msft.cloud.fleet[0].chip: unknown chip 'h10'; did you mean 'h100'? (chips: "
        "h100)\n"
        "t.yaml:6:24: chips.h100.vendor: unknown firm 'opnai'; did you mean 'openai'? (firms: msft, openai)");
    // A vendor must make chips, and a chipmaker may only plan capacity for its own chips.
    CHECK(
        errors(header +
               "firms:\n  openai: {lab: {}}\n  nvidia: {chipmaker: {capacity_per_month: {h100: 1, tpu: 2}}}\n"
               "  google: {chipmaker: {}}\n"
               "chips:\n  h100: {vendor: nvidia, release: 2023-01}\n  tpu: {vendor: openai, release: "
               "2023-01}\n") ==
        "t.yaml:4:54: firms.nvidia.chipmaker.capacity_per_month: chip 'tpu' is made by 'openai', not by "
        "'nvidia'\n"
        "t.yaml:8:17: chips.tpu.vendor: firm 'openai' has no chipmaker role (chipmakers: google, nvidia)");
    CHECK(errors(header + one_lab + "equity: {microsoft: {openai: 0.1}}\n") ==
          "t.yaml:3:10: equity: unknown firm 'microsoft' (firms: openai)");
}

TEST_CASE("loader: ids are unique, and names are lowercase words") {
    const std::string text =
        header +
        "firms: {a: {lab: {}}, b: {cloud: {regions: [r]}}}\n"
        "regions: {r: {}}\n"
        "contracts:\n"
        "  - {id: deal, kind: commitment, seller: b, buyer: a, start: 2024-01, end: 2024-12, value_usd: 1}\n"
        "  - {id: deal, kind: commitment, seller: b, buyer: a, start: 2024-01, end: 2024-12, value_usd: 1}\n"
        "events:\n"
        "  - {id: e1, at: 2024-03, do: declare_agi}\n"
        "  - {id: e1, at: 2024-04, do: declare_agi}\n";
    CHECK(errors(text) ==
          "t.yaml:6:10: contracts.deal.id: duplicate contract id 'deal' (first given at t.yaml:5:10)\n"
          "t.yaml:9:10: events.e1.id: duplicate event id 'e1' (first given at t.yaml:8:10)");
    CHECK(errors(header + "firms: {OpenAI: {lab: {}}}\n") ==
          "t.yaml:2:9: firm name 'OpenAI' must be lowercase letters, digits and '_'");
    CHECK(errors(header + "firms:\n  a: {lab: {cash: 1}}\n  a: {lab: {cash: 2}}\n") ==
          "t.yaml:4:3: duplicate key 'a' (first given at line 3)");
}

TEST_CASE("loader: scenario.name names the results file, so it is a plain name of at most 100 characters") {
    const auto named = [](const std::string& name) {
        return errors("scenario: {name: " + name + ", start: 2024-01, end: 2024-12}\n" + one_lab);
    };
    const std::string expected =
        "t.yaml:1:18: scenario.name: expected a name of lowercase letters, digits and '_', at most 100 "
        "characters (it names the results file), found ";
    // results/<name>.h5 would be a file outside results/.
    CHECK(named("../../tmp/x") == expected + "'../../tmp/x'");
    CHECK(named("a/../b") == expected + "'a/../b'");
    CHECK(named("'.hidden'") == expected + "'.hidden'");
    CHECK(named("''") == expected + "''");
    CHECK(named("Baseline") == expected + "'Baseline'");
    CHECK(named("[a, b]") == expected + "a list");
    // Control characters are shown escaped, a long name cut short.
    CHECK(named("\"a\\0b\"") == expected + "'a\\x00b'");
    CHECK(named("\"a\\tb\\x1b\"") == expected + "'a\\x09b\\x1b'");
    CHECK(named(std::string(1 << 20, 'a')) ==
          expected + "'" + std::string(40, 'a') + "...' (1048576 characters)");
    CHECK(named(std::string(101, 'a')) == expected + "'" + std::string(40, 'a') + "...' (101 characters)");
    CHECK(named(std::string(100, 'a')).empty());
    CHECK(named("no_stargate_2").empty());
    // Given by --set, and reported with the file's other problems.
    CHECK(errors(header + one_lab, {parse_override("scenario.name=../x")}) ==
          "--set:1:15: scenario.name: expected a name of lowercase letters, digits and '_', at most 100 "
          "characters (it names the results file), found '../x'");
    const std::string two = errors("scenario: {name: a/b, start: 2024-13, end: 2024-12}\n" + one_lab);
    CHECK(two == expected + "'a/b'\nt.yaml:1:30: scenario.start: expected a month as YYYY-MM, found '2024-13'");
}

TEST_CASE("loader: a distribution is checked against its shape and the key's range") {
    const std::string text = header +
                             "firms:\n"
                             "  a:\n"
                             "    lab:\n"
                             "      training_growth: {dist: normal, mean: 3, sd: -1}\n"
                             "      train_share: {dist: uniform, min: 0.5, max: 1.2}\n"
                             "      cash: {dist: trangular, min: 1}\n"
                             "      urgency: {dist: triangular, min: 3, mode: 1, max: 2}\n"
                             "      psi: {dist: lognormal, median: 1}\n"
                             "      brand: {dist: normal, mean: 0, sd: 1, sigma: 2}\n"
                             "      catch_up: {dist: lognormal, median: 0, sigma: 1}\n";
    CHECK(errors(text) ==
          "t.yaml:5:52: firms.a.lab.training_growth: a normal distribution needs sd >= 0, found -1\n"
          "t.yaml:6:51: firms.a.lab.train_share: max 1.2 is out of range; expected a value in [0, 1]\n"
          "t.yaml:7:20: firms.a.lab.cash.dist: expected one of normal | lognormal | uniform | triangular, "
          "found "
          "'trangular'; did you mean 'triangular'?\n"
          "t.yaml:8:16: firms.a.lab.urgency: a triangular distribution needs min <= mode <= max, found min "
          "3, mode 1, max 2\n"
          "t.yaml:9:12: firms.a.lab.psi: a lognormal distribution needs 'sigma'\n"
          "t.yaml:10:45: unknown key 'sigma' in firms.a.lab.brand; valid keys: dist, mean, sd\n"
          "t.yaml:11:43: firms.a.lab.catch_up: a lognormal distribution needs median > 0, found 0");
    // A region's delay is a distribution only.
    CHECK(errors(header + one_lab + "regions: {r: {delay: 3}}\n") ==
          "t.yaml:3:22: regions.r.delay: expected a distribution {dist: normal | lognormal | uniform | "
          "triangular, "
          "...}, found '3'");
}

TEST_CASE("loader: every problem of a file is reported together, in file order") {
    const std::string text =
        "scenario: {name: t, start: 2024-01, end: 2024-12, step: week}\n"
        "market: {lab_power: 2}\n"
        "firms:\n"
        "  openai: {lab: {cash: lots, traning_growth: 2}}\n"
        "outputs: {series: [compute, spotprice], every: 0}\n";
    try {
        load_scenario_text(text, "t.yaml");
        FAIL("no InputError");
    } catch (const InputError& e) {
        CHECK(e.problems().size() == 6);
        CHECK(
            std::string(e.what()) ==
            "t.yaml:1:57: scenario.step: expected one of month | quarter, found 'week'\n"
            "t.yaml:2:21: market.lab_power: 2 is out of range; expected a value in [0, 1]\n"
            "t.yaml:4:24: firms.openai.lab.cash: expected a number, a time path or a distribution, found "
            "'lots'\n"
            "t.yaml:4:30: unknown key 'traning_growth' in firms.openai.lab; did you mean 'training_growth'?\n"
            "t.yaml:5:29: outputs.series: unknown series 'spotprice'; did you mean 'spot_price'? (series: "
            "cash, "
            "revenue, capex, compute, compute_training, compute_inference, capability, market_share, "
            "valuation, "
            "supplier_hhi, customer_hhi, utilisation, power_online_mw, stranded_units, spot_price, "
            "spot_volume, "
            "contract_price_mean, frontier_capability, total_compute, end_market_usd, power_used_mw, "
            "power_available_mw, price, shipped, installed)\n"
            "t.yaml:5:48: outputs.every: 0 is out of range; expected a value >= 1");
    }
}

TEST_CASE("loader: contracts need the keys of their kind and consistent dates") {
    const std::string firms = "firms: {a: {lab: {}}, b: {cloud: {regions: [r]}}}\nregions: {r: {}}\n";
    CHECK(errors(header + firms +
                 "contracts:\n"
                 "  - {id: c1, kind: capacity, seller: b, buyer: a, start: 2024-01, end: 2023-01, "
                 "quantity_h100e: 1}\n"
                 "  - {id: c2, kind: licence, seller: b, buyer: b, start: 2024-01, signed: 2024-02}\n"
                 "  - {id: c3, kind: chip_supply, seller: b, buyer: a, start: 2024-01, end: 2024-02, "
                 "term_months: 2,\n"
                 "     chip: h100, units_per_month: 1, unit_price: 1}\n") ==
          "t.yaml:5:5: contracts.c1: a capacity contract needs 'price_usd_per_h100e_hour'\n"
          "t.yaml:5:72: contracts.c1: end 2023-01 is before start 2024-01\n"
          "t.yaml:6:5: contracts.c2: missing 'end' or 'term_months'\n"
          "t.yaml:6:5: contracts.c2: seller and buyer are the same firm\n"
          "t.yaml:6:5: contracts.c2: a licence contract needs 'fee_usd_per_year'\n"
          "t.yaml:6:74: contracts.c2: signed 2024-02 is after start 2024-01\n"
          "t.yaml:7:97: contracts.c3: give either 'end' or 'term_months', not both\n"
          "t.yaml:8:12: contracts.c3.chip: unknown chip 'h100' (no chips are defined)");
    const Scenario sc = load_scenario_text(
        header + firms +
            "contracts: [{id: c, kind: capacity, seller: b, buyer: a, start: 2024-03, term_months: 12, "
            "quantity_h100e: 10, price_usd_per_h100e_hour: 2, sla_credit: 0.1}]\n",
        "t.yaml");
    REQUIRE(sc.contracts.size() == 1);
    CHECK(sc.contracts[0].end == *parse_month("2025-02"));
    CHECK(sc.contracts[0].signed_at == *parse_month("2024-03"));
    CHECK(sc.contracts[0].seller == *sc.find_firm("b"));
    CHECK(sc.contracts[0].sla_credit == doctest::Approx(0.1));
}

TEST_CASE("loader: events need the keys of their kind and targets that exist") {
    CHECK(errors(header + one_lab +
                 "events:\n"
                 "  - {id: e1, at: 2024-01, do: amend, target: deal, changes: {rofr: false}}\n"
                 "  - {id: e2, at: 2024-01, do: scale, target: firms.openai.lab.traning_growth}\n"
                 "  - {id: e3, at: 2024-05, do: forbid, firms: [openai], until: 2024-01}\n"
                 "  - {id: e4, at: 2024-05, do: acquire, firms: [openai], value: 1}\n"
                 "  - {id: e5, at: 2024-05, do: sigh}\n") ==
          "t.yaml:4:46: events.e1.target: unknown contract 'deal' (no contracts are defined)\n"
          "t.yaml:5:5: events.e2: a scale event needs 'value'\n"
          "t.yaml:5:46: events.e2.target: unknown parameter 'firms.openai.lab.traning_growth'; did you mean "
          "'firms.openai.lab.training_growth'? (expected a key path such as firms.NAME.lab.training_growth)\n"
          "t.yaml:6:46: events.e3.firms: a forbid event needs at least two firms (every pair among them is "
          "forbidden)\n"
          "t.yaml:6:63: events.e3.until: 2024-01 is before the event's month 2024-05\n"
          "t.yaml:7:47: events.e4.firms: an acquire event needs two firms: [acquirer, target]\n"
          "t.yaml:8:31: events.e5.do: expected one of sign | forbid | amend | terminate | set | scale | "
          "acquire | "
          "invest | shock | declare_agi, found 'sigh'; did you mean 'sign'?");
}

TEST_CASE("loader: an amendment changes only amendable contract keys, and at least one") {
    const std::string deal =
        "contracts:\n"
        "  - {id: deal, kind: capacity, seller: azure, buyer: openai, start: 2023-01, term_months: 12,\n"
        "     quantity_h100e: 1, price_usd_per_h100e_hour: 1}\n";
    CHECK(errors(header + "firms: {openai: {lab: {}}, azure: {lab: {}}}\n" + deal +
                 "events:\n"
                 "  - {id: e1, at: 2023-06, do: amend, target: deal, changes: {buyer: azure, rofr: maybe}}\n"
                 "  - {id: e2, at: 2023-06, do: amend, target: deal, changes: {}}\n"
                 "  - {id: e3, at: 2023-06, do: amend, target: deal, changes: {end: 2024-13, exclusiv: true}}\n") ==
          "t.yaml:7:62: unknown key 'buyer' in events.e1.changes; valid keys: end, quantity_h100e, "
          "price_usd_per_h100e_hour, units_per_month, unit_price, value_usd, fee_usd_per_year, share, exclusive, "
          "rofr, until_agi, waivable, sla_credit, take_or_pay\n"
          "t.yaml:7:82: events.e1.changes.rofr: expected true or false, found 'maybe'\n"
          "t.yaml:8:61: events.e2.changes: an amendment must change at least one key\n"
          "t.yaml:9:67: events.e3.changes.end: expected a month as YYYY-MM, found '2024-13'\n"
          "t.yaml:9:76: unknown key 'exclusiv' in events.e3.changes; did you mean 'exclusive'?");
}

TEST_CASE("loader: equity shares of a target add up to at most 1") {
    CHECK(errors(header + "firms: {a: {lab: {}}, b: {lab: {}}, c: {lab: {}}}\n"
                          "equity: {a: {c: 0.6, a: 0.1}, b: {c: 0.5}}\n") ==
          "t.yaml:3:22: equity.a: a firm cannot hold equity in itself\n"
          "t.yaml:3:35: equity: holders of 'c' own 1.1 of it in total; a firm's holders may own at most 1");
}

TEST_CASE("loader: extends merges maps key by key, replaces lists and removes events") {
    const Scenario sc = load_scenario(data_dir + "derived.yaml");
    CHECK(sc.name == "derived");
    CHECK(sc.seed == 11);  // from the base
    const FirmSpec& openai = sc.firms[*sc.find_firm("openai")];
    REQUIRE(openai.lab);
    CHECK(openai.lab->training_growth.constant_value() == 4.0);  // changed
    CHECK(openai.lab->cash.constant_value() == 1.0e9);           // kept: maps merge
    CHECK(openai.lab->train_share.constant_value() == 0.5);
    const FirmSpec& microsoft = sc.firms[*sc.find_firm("microsoft")];
    REQUIRE(microsoft.cloud);
    CHECK(microsoft.cloud->regions == std::vector<RegionId>{*sc.find_region("us_west")});  // lists replace
    CHECK(microsoft.cloud->power_online.size() == 1);
    REQUIRE(sc.events.size() == 1);
    CHECK(sc.events[0].id == "second_event");
    CHECK(sc.source_path == data_dir + "derived.yaml");
    // The resolved text stands alone: no extends, no remove_events.
    CHECK_FALSE(contains(sc.resolved_yaml, "extends"));
    CHECK_FALSE(contains(sc.resolved_yaml, "remove_events"));
    CHECK_FALSE(contains(sc.resolved_yaml, "first_event"));

    // Twice removed, with a path relative to the extending file's directory.
    const Scenario twice = load_scenario(data_dir + "nested/twice_derived.yaml");
    CHECK(twice.name == "twice_derived");
    CHECK(twice.end == *parse_month("2024-06"));
    CHECK(twice.market.end_market_usd.constant_value() == 7.0e9);
    CHECK(twice.firms[*twice.find_firm("openai")].lab->training_growth.constant_value() == 4.0);
    CHECK(twice.events.size() == 1);
}

TEST_CASE("loader: extends replaces a time path or a distribution whole") {
    const Scenario sc = load_scenario_text(
        "scenario: {name: values, extends: valid.yaml}\n"
        "market:\n"
        "  end_market_growth: {2023-06: 1.0}\n"              // over a two-knot path
        "  lab_power: {dist: normal, mean: 0.5, sd: 0.1}\n"  // over a uniform
        "firms: {openai: {lab: {training_growth: 5}}}\n",    // a number over a distribution
        data_dir + "values.yaml");
    const Param& growth = sc.market.end_market_growth;
    REQUIRE(growth.kind() == Param::Kind::path);
    CHECK(growth.knots().size() == 1);
    CHECK(growth.at(0, {}) == 1.0);
    const UncertainParam* lab_power = find_uncertain(sc, "market.lab_power");
    REQUIRE(lab_power != nullptr);
    CHECK(lab_power->distribution.shape == DistributionShape::normal);
    CHECK(find_uncertain(sc, "firms.openai.lab.training_growth") == nullptr);
    CHECK(sc.firms[*sc.find_firm("openai")].lab->training_growth.constant_value() == 5);
    CHECK(sc.firms[*sc.find_firm("openai")].lab->train_share.constant_value() ==
          0.6);  // the lab map still merges
}

TEST_CASE(
    "loader: extends problems: unknown event to remove, a cycle, a missing base, an error in the base") {
    CHECK(
        file_errors(data_dir + "bad_remove.yaml") ==
        data_dir +
            "bad_remove.yaml:2:30: remove_events: the base scenario has no event 'secnd_event'; did you mean "
            "'second_event'? (events: first_event, second_event)");
    CHECK(file_errors(data_dir + "cycle_a.yaml") ==
          data_dir + "cycle_b.yaml:1:36: scenario.extends: cycle of extends: " + data_dir +
              "cycle_a.yaml -> " + data_dir + "cycle_b.yaml -> " + data_dir + "cycle_a.yaml");
    CHECK(errors("scenario: {name: t, extends: nowhere.yaml}\n") ==
          "t.yaml:1:30: scenario.extends: cannot open scenario file 'nowhere.yaml' (no such file)");
    // A problem in the base is reported in the base file, where it can be fixed.
    CHECK(file_errors(data_dir + "bad_base_child.yaml") ==
          data_dir +
              "bad_base.yaml:4:17: firms.openai.lab.cash: expected a number, a time path or a distribution, "
              "found 'lots'");
    CHECK(errors(header + one_lab + "remove_events: [x]\n") ==
          "t.yaml:3:1: remove_events changes the events of the scenario this one extends, but scenario.extends "
          "is not given");
}

TEST_CASE("loader: add_events appends to the base's events; an events list would replace them") {
    const std::string added =
        "add_events:\n"
        "  - {id: late_shock, at: 2024-09, do: scale, target: firms.openai.lab.training_growth, value: 0.5}\n";
    const Scenario sc = load_scenario_text(
        "scenario: {name: more, extends: valid.yaml}\nremove_events: [growth_shock]\n" + added, data_dir + "more.yaml");
    std::vector<std::string> ids;
    for (const EventSpec& e : sc.events) ids.push_back(e.id);
    CHECK(ids == std::vector<std::string>{"msft_waiver", "google_deal", "late_shock"});
    CHECK_FALSE(contains(sc.resolved_yaml, "add_events"));
    // An added event is checked like any other, where it was written.
    CHECK(errors("scenario: {name: more, extends: " + data_dir + "valid.yaml}\n"
                 "add_events:\n  - {id: google_deal, at: 2024-09, do: declare_agi}\n") ==
          "t.yaml:3:10: events.google_deal.id: duplicate event id 'google_deal' (first given at " + data_dir +
              "valid.yaml:58:9)");
    CHECK(errors(header + one_lab + added) ==
          "t.yaml:3:1: add_events changes the events of the scenario this one extends, but scenario.extends "
          "is not given");
}

TEST_CASE("loader: --set overrides change the merged tree before validation") {
    const std::vector<Override> overrides{
        parse_override("firms.openai.lab.training_growth=4"),
        parse_override("market.end_market_growth={2023-01: 3, 2024-01: 1}"),
        parse_override("scenario.name=what_if"),
        parse_override("events.second_event.enabled=true"),
        parse_override("firms.openai.lab.brand={dist: normal, mean: 0, sd: 1}"),
    };
    const Scenario sc = load_scenario(data_dir + "derived.yaml", overrides);
    CHECK(sc.name == "what_if");
    CHECK(sc.firms[*sc.find_firm("openai")].lab->training_growth.constant_value() == 4.0);
    CHECK(sc.market.end_market_growth.at(6, {}) == doctest::Approx(2.0));
    CHECK(sc.events[0].enabled);
    REQUIRE(find_uncertain(sc, "firms.openai.lab.brand") != nullptr);
    CHECK(find_uncertain(sc, "firms.openai.lab.brand")->owner == "openai");
    CHECK(contains(sc.resolved_yaml, "name: what_if"));
}

TEST_CASE("loader: --set problems point into the argument") {
    const auto set_errors = [](const std::string& argument) {
        return errors(header + "firms: {openai: {lab: {cash: 1}}}\n", {parse_override(argument)});
    };
    CHECK(set_errors("firms.openai.lab.traning_growth=4") ==
          "--set:1:18: unknown key 'traning_growth' in firms.openai.lab; did you mean 'training_growth'?");
    CHECK(set_errors("firms.opnai.lab.cash=1") ==
          "--set:1:7: --set firms.opnai.lab.cash: unknown firm 'opnai'; did you mean 'openai'? (firms: "
          "openai)");
    CHECK(
        set_errors("firms.openai.lab.cash=lots") ==
        "--set:1:23: firms.openai.lab.cash: expected a number, a time path or a distribution, found 'lots'");
    // A number is read without yaml-cpp (tree.cpp), located as yaml-cpp locates it.
    CHECK(set_errors("firms.openai.lab.train_share=-1.5e0") ==
          "--set:1:30: firms.openai.lab.train_share: -1.5e0 is out of range; expected a value in [0, 1]");
    CHECK(set_errors("firms.openai.lab.cash=[1") ==
          "--set:1:23: YAML syntax error: end of sequence flow not found");
    CHECK(set_errors("firms.openai.lab.cash.x=1") ==
          "--set:1:23: --set firms.openai.lab.cash.x: firms.openai.lab.cash is '1', not a map with keys");
    CHECK(set_errors("firms..cash=1") == "--set:1:7: --set firms..cash: empty key in the path");
    CHECK(set_errors("events.e.enabled=false") ==
          "--set:1:8: --set events.e.enabled: events has no item with id 'e' (ids: none)");
}

TEST_CASE("loader: overrides applied with their changes recorded are undone exactly") {
    // Sweep points apply their overrides to a reused tree and undo them (sweep_loader.cpp).
    loader::Problems parse_problems;
    const auto parsed = loader::parse_yaml(R"(scenario: {name: t, start: 2024-01, end: 2024-12}
regions:
firms:
  openai:
    lab: {cash: 1.0e9, training_growth: 3.0}
contracts:
  - {id: deal, kind: commitment, seller: openai, buyer: openai, value_usd: 5}
events:
  - {id: first, at: 2024-03, do: declare_agi, enabled: false}
)",
                                           loader::Mark{"t.yaml", 1, 1}, parse_problems, "a scenario file");
    REQUIRE(parsed);
    const loader::Tree original = *parsed;
    const std::vector<Override> overrides{
        parse_override("events.first.enabled=true"),              // a key of a list item, by id
        parse_override("events.first.text=why"),                  // a key the item lacks
        parse_override("contracts.deal.value_usd=7"),             // a key of another list's item
        parse_override("market.end_market_growth={2024-01: 3}"),  // a section the file lacks; a map value
        parse_override("market.end_market_growth.2024-06=2"),     // inside a map an earlier override gave
        parse_override("firms.openai.lab={cash: 2.0e9}"),         // a whole map replaced
        parse_override("firms.openai.lab.catch_up=1"),            // a key added to the map just given
        parse_override("regions.west.power_mw=5"),                // a null section made a map, then refused
        parse_override("firms.openai.lab.cash.x=1"),              // refused: cash is a number
        parse_override("firms.opnai.lab.cash=1"),                 // refused: unknown firm
        parse_override("events.last.enabled=true"),               // refused: no such id
        parse_override("agi.threshold=[1"),                       // refused: YAML syntax
    };
    loader::Tree copied = original;
    loader::Problems copied_problems;
    loader::apply_overrides(copied, overrides, copied_problems);

    loader::Tree reused = original;
    loader::Problems problems;
    std::vector<loader::TreeChange> changes;
    loader::apply_overrides(reused, overrides, problems, &changes);
    // The same tree as overrides applied to a copy, refusals and all: the same scenario, the same problems.
    CHECK(same_tree(reused, copied));
    CHECK(reused.find("regions")->is_map());
    CHECK(reused.find("firms")->find("openai")->find("lab")->find("catch_up")->text == "1");
    CHECK(reused.find("market")->find("end_market_growth")->entries.size() == 2);
    CHECK_FALSE(same_tree(reused, original));
    loader::undo_changes(reused, changes);
    CHECK(changes.empty());
    CHECK(same_tree(reused, original));

    // Applied again to the restored tree: the same result, so a reused tree serves any number of points.
    loader::apply_overrides(reused, overrides, problems, &changes);
    CHECK(same_tree(reused, copied));
    loader::undo_changes(reused, changes);
    CHECK(same_tree(reused, original));
}

TEST_CASE("loader: parse_override splits PATH=VALUE") {
    const Override o = parse_override("market.end_market_growth={2025-01: 3, 2030-01: 2}");
    CHECK(o.path == "market.end_market_growth");
    CHECK(o.value == "{2025-01: 3, 2030-01: 2}");
    CHECK(parse_override("a.b=x=y").value == "x=y");
    try {
        parse_override("training_growth");
        FAIL("no InputError");
    } catch (const InputError& e) {
        CHECK(e.problems()[0].format() ==
              "--set:1:1: expected PATH=VALUE (e.g. firms.openai.lab.training_growth=4), found "
              "'training_growth'");
    }
}

TEST_CASE("loader: a missing or empty file") {
    CHECK(
        file_errors("/nonexistent/scenario.yaml") ==
        "/nonexistent/scenario.yaml: cannot open scenario file '/nonexistent/scenario.yaml' (no such file)");
    CHECK(file_errors(data_dir) == data_dir + ": cannot open scenario file '" + data_dir + "' (a directory)");
    CHECK(errors("") == "t.yaml:1:1: the scenario file is empty");
    CHECK(errors("# nothing but a comment\n") == "t.yaml:1:1: the scenario file is empty");
    CHECK(errors(header) == "t.yaml:1:1: missing required key 'firms'");
    CHECK(errors(header + "firms: {}\n") == "t.yaml:2:8: firms: expected at least one firm");
}

TEST_CASE("loader: a full scenario loads with every value, path and uncertain parameter in place") {
    const Scenario sc = load_scenario(data_dir + "valid.yaml");
    CHECK(sc.name == "valid");
    CHECK(sc.start == *parse_month("2023-01"));
    CHECK(sc.end == *parse_month("2024-12"));
    CHECK(sc.steps() == 24);
    CHECK(sc.months_per_step == 1);
    CHECK(sc.seed == 7);
    CHECK(sc.replications == 20);

    // Sorted by name, so that ids are indices.
    std::vector<std::string> firm_names;
    for (const FirmSpec& f : sc.firms) firm_names.push_back(f.name);
    CHECK(firm_names == std::vector<std::string>{"google", "microsoft", "nvidia", "openai"});
    REQUIRE(sc.chips.size() == 2);
    CHECK(sc.chips[0].name == "h100");
    CHECK(sc.chips[1].name == "tpu_v5");
    const FirmId google = *sc.find_firm("google"), nvidia = *sc.find_firm("nvidia"),
                 openai = *sc.find_firm("openai");
    CHECK(sc.chips[0].vendor == nvidia);
    CHECK(sc.chips[0].sold_to_any);
    CHECK_FALSE(sc.chips[1].sold_to_any);
    CHECK(sc.chips[1].sold_to == std::vector<FirmId>{google});
    CHECK(sc.chips[1].unit_cost.constant_value() == 3300);  // the default
    CHECK(sc.chips[0].release == *parse_month("2022-10"));

    // Time paths are tabulated per step: piecewise linear, flat outside their knots.
    const Param& growth = sc.market.end_market_growth;
    CHECK(growth.kind() == Param::Kind::path);
    CHECK(growth.at(0, {}) == doctest::Approx(2.0));
    CHECK(growth.at(6, {}) == doctest::Approx(2.0 + 0.5 * (0.5 - 2.0)));
    CHECK(growth.at(23, {}) == doctest::Approx(0.5));
    const auto& capacity = sc.firms[nvidia].chipmaker->capacity_per_month;
    REQUIRE(capacity.size() == 1);
    CHECK(capacity[0].first == *sc.find_chip("h100"));
    CHECK(capacity[0].second.at(5, {}) == doctest::Approx(40000 + 5.0 / 17.0 * 110000));
    CHECK(capacity[0].second.at(23, {}) == doctest::Approx(150000));
    const CloudRole& cloud = *sc.firms[*sc.find_firm("microsoft")].cloud;
    CHECK(cloud.capex_budget.at(12, {}) == doctest::Approx(5.5e10));
    REQUIRE(cloud.fleet.size() == 1);
    CHECK(cloud.fleet[0].units.constant_value() == 150000);
    CHECK(cloud.fleet[0].age_months == 6);
    REQUIRE(cloud.power_online.size() == 1);
    CHECK(cloud.power_online[0].mw.constant_value() == 800);

    // Uncertain values are registered with their key path, owner and the key's range as clamping bounds.
    CHECK(sc.uncertain.size() == 5);
    const UncertainParam* training = find_uncertain(sc, "firms.openai.lab.training_growth");
    REQUIRE(training != nullptr);
    CHECK(training->owner == "openai");
    CHECK(training->distribution.shape == DistributionShape::lognormal);
    CHECK(training->distribution.a == 3);
    CHECK(training->distribution.b == doctest::Approx(0.2));
    CHECK(training->distribution.lower > 0);  // training_growth > 0: just inside the open bound
    CHECK(std::isinf(training->distribution.upper));
    const Param& tg = sc.firms[openai].lab->training_growth;
    REQUIRE(tg.kind() == Param::Kind::uncertain);
    CHECK(sc.uncertain[tg.uncertain_index()].key_path == "firms.openai.lab.training_growth");
    const UncertainParam* lab_power = find_uncertain(sc, "market.lab_power");
    REQUIRE(lab_power != nullptr);
    CHECK(lab_power->owner == "market");
    CHECK(lab_power->distribution.lower == 0);
    CHECK(lab_power->distribution.upper == 1);
    CHECK(draw(lab_power->distribution, 0, 2.0) == 1);  // a draw beyond the range is clamped into it
    REQUIRE(find_uncertain(sc, "firms.google.chipmaker.capacity_per_month.tpu_v5") != nullptr);
    CHECK(find_uncertain(sc, "firms.google.chipmaker.capacity_per_month.tpu_v5")->owner == "google");
    CHECK(find_uncertain(sc, "chips.h100.unit_cost")->distribution.shape == DistributionShape::triangular);
    CHECK(find_uncertain(sc, "agi.threshold")->owner == "agi");
    const std::vector<double> drawn{0.5, 3300, 20000, 3.1, 28.4};
    CHECK(tg.at(3, drawn) == drawn[tg.uncertain_index()]);

    REQUIRE(sc.regions[0].delay);
    CHECK(sc.regions[0].delay->shape == DistributionShape::triangular);
    CHECK(sc.regions[0].delay->c == 12);
    CHECK(sc.regions[0].delay->lower == 0);

    REQUIRE(sc.equity.size() == 2);
    CHECK(sc.equity[0].holder == google);
    CHECK(sc.equity[1].share == doctest::Approx(0.27));
    REQUIRE(sc.contracts.size() == 1);
    CHECK(sc.contracts[0].end == *parse_month("2025-12"));
    CHECK(sc.contracts[0].exclusive);
    REQUIRE(sc.events.size() == 3);
    CHECK(sc.events[0].text == "Microsoft waives exclusivity");
    CHECK(sc.events[1].contract->id == "google_openai");
    CHECK(sc.events[2].kind == EventKind::scale);
    CHECK(sc.events[2].target == "firms.openai.lab.training_growth");
    CHECK_FALSE(sc.outputs.all_series);
    CHECK(sc.outputs.series == std::vector<std::string>{"compute", "spot_price", "price"});
    CHECK(sc.outputs.every == 2);

    // The resolved text is a scenario in its own right, and loads to the same thing.
    const Scenario again = load_scenario_text(sc.resolved_yaml, "resolved.yaml");
    CHECK(again.firms.size() == sc.firms.size());
    CHECK(again.uncertain.size() == sc.uncertain.size());
    CHECK(again.market.end_market_growth.at(6, {}) == doctest::Approx(growth.at(6, {})));
    CHECK(again.events[0].text == sc.events[0].text);
    CHECK(again.resolved_yaml == sc.resolved_yaml);
}

TEST_CASE("loader: a quarterly scenario tabulates paths per quarter") {
    const Scenario sc = load_scenario_text(
        "scenario: {name: q, start: 2024-01, end: 2025-12, step: quarter}\n"
        "market: {end_market_growth: {2024-01: 0, 2025-01: 12}}\n" +
            one_lab,
        "q.yaml");
    CHECK(sc.months_per_step == 3);
    CHECK(sc.steps() == 8);
    CHECK(sc.market.end_market_growth.at(1, {}) == doctest::Approx(3.0));  // 2024-04
    CHECK(sc.market.end_market_growth.at(7, {}) == doctest::Approx(12.0));
}

TEST_CASE("loader: a lab's strategic investors, in the order written") {
    const Scenario sc = load_scenario_text(
        header + "firms: {openai: {lab: {investors: {msft: {budget_usd: 1.3e10, in_kind: true}, nvda: {budget_usd: 1.0e9}}}},\n"
                 "        msft: {lab: {}}, nvda: {lab: {}}}\n",
        "t.yaml");
    const LabRole& lab = *sc.firms[*sc.find_firm("openai")].lab;
    REQUIRE(lab.investors.size() == 2);
    CHECK(lab.investors[0].firm == *sc.find_firm("msft"));
    CHECK(lab.investors[0].budget_usd == 1.3e10);
    CHECK(lab.investors[0].in_kind);
    CHECK(lab.investors[1].firm == *sc.find_firm("nvda"));
    CHECK_FALSE(lab.investors[1].in_kind);
    CHECK(errors(header + "firms: {openai: {lab: {investors: {msft: {budget: 1}, nobody: {budget_usd: -1}}}}, msft: {lab: {}}}\n") ==
          "t.yaml:2:42: firms.openai.lab.investors.msft: missing required key 'budget_usd'\n"
          "t.yaml:2:43: unknown key 'budget' in firms.openai.lab.investors.msft; valid keys: budget_usd, in_kind\n"
          "t.yaml:2:55: firms.openai.lab.investors: unknown firm 'nobody' (firms: msft, openai)\n"
          "t.yaml:2:76: firms.openai.lab.investors.nobody.budget_usd: -1 is out of range; expected a value >= 0");
}
