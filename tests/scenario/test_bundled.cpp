// The bundled scenario files run, hold every invariant, and give the same
// numbers on any number of threads.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>
#include <map>
#include <mutex>

#include "agents/standard_model.hpp"
#include "engine/runner.hpp"
#include "engine/scenario/loader.hpp"
#include "engine/simulation.hpp"
#include "engine/sweep_runner.hpp"
#include "tests/support.hpp"

using namespace entangle;

namespace {

const std::string source_dir = ENTANGLE_SOURCE_DIR;

using testing::CollectingSink;

// Counts records, and checks that every table text a run writes fits the
// fixed-length columns a sweep of its scenario lays out (table_text_bounds):
// a new engine word or id pattern that outgrows them fails here, not in a
// user's sweep.
struct Count final : RecordSink {
    TableTextBounds bounds;
    std::mutex mutex;
    std::size_t records = 0, rows = 0;
    void write(const ReplicationRecord& r) override {
        const std::lock_guard lock(mutex);
        ++records;
        const auto fits = [&](const std::string& text, std::uint32_t width, const char* column) {
            CHECK_MESSAGE(text.size() <= width, std::string(column) << " '" << text << "' is longer than " << width << " bytes");
        };
        for (const ContractRow& c : r.contracts) {
            ++rows;
            fits(c.id, bounds.contract_id, "contracts.id");
            fits(c.kind, bounds.contract_kind, "contracts.kind");
            fits(c.seller, bounds.firm, "contracts.seller");
            fits(c.buyer, bounds.firm, "contracts.buyer");
            for (const std::string* month : {&c.signed_month, &c.start, &c.end}) fits(*month, bounds.month, "contracts month");
            fits(c.status, bounds.status, "contracts.status");
            fits(c.end_reason, bounds.end_reason, "contracts.end_reason");
        }
        for (const EventRow& e : r.events) {
            ++rows;
            fits(e.time, bounds.month, "events.time");
            fits(e.kind, bounds.event_kind, "events.kind");
            fits(e.firms, bounds.event_firms, "events.firms");
        }
    }
    void finish(bool) override {}
};

std::map<std::uint32_t, ReplicationRecord> run(const Scenario& sc, int replications, int threads) {
    const agents::StandardModel model;
    CollectingSink sink;
    RunOptions options;
    options.threads = threads;
    options.seed = sc.seed;
    run_tasks(replication_tasks(sc, 0, replications), model, options, &sink);
    return std::move(sink.records);
}

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

}  // namespace

TEST_CASE("scenarios/minimal.yaml loads and runs") {
    const Scenario sc = load_scenario(source_dir + "/scenarios/minimal.yaml");
    check_runnable(sc);
    const auto records = run(sc, sc.replications, 2);
    CHECK(records.size() == static_cast<std::size_t>(sc.replications));
    const ReplicationRecord& r = records.at(0);
    const int last = r.shape.times - 1;
    // The lab gets compute and the end market pays it.
    const auto lab_firm = std::find_if(sc.firms.begin(), sc.firms.end(), [](const FirmSpec& f) { return f.lab.has_value(); });
    REQUIRE(lab_firm != sc.firms.end());
    const int lab = static_cast<int>(lab_firm - sc.firms.begin());
    CHECK(r.firm_at(FirmSeries::compute, last, lab) > 0);
    CHECK(r.firm_at(FirmSeries::revenue, last, lab) > 0);
}

TEST_CASE("scenarios/baseline.yaml: 200 replications with invariants checked every month") {
    const Scenario sc = load_scenario(source_dir + "/scenarios/baseline.yaml");
    check_runnable(sc);
    CHECK(sc.firms.size() >= 12);
    CHECK(sc.start == *parse_month("2023-01"));
    CHECK(sc.end == *parse_month("2030-12"));
    const agents::StandardModel model;
    Count sink;
    RunOptions options;
    options.seed = sc.seed;
    options.record = false;  // invariants are checked inside every step; nothing to keep
    const RunOutcome outcome = run_tasks(replication_tasks(sc, 0, 200), model, options, &sink);
    CHECK(outcome.completed == 200);
}

TEST_CASE("scenarios/baseline.yaml gives bit-identical results on 1 and 2 threads") {
    const Scenario sc = load_scenario(source_dir + "/scenarios/baseline.yaml");
    const auto one = run(sc, 6, 1);
    const auto two = run(sc, 6, 2);
    REQUIRE(one.size() == 6);
    for (const auto& [rep, r] : one) {
        const ReplicationRecord& other = two.at(rep);
        CHECK(same_bits(r.firm, other.firm));
        CHECK(same_bits(r.market, other.market));
        CHECK(same_bits(r.chip, other.chip));
        CHECK(r.capacity_flow == other.capacity_flow);
    }
}

// Every bundled scenario file (the baseline, minimal.yaml and the what-ifs of
// scenarios/whatif/) loads, passes the run-time checks and runs a few
// replications with every invariant checked each month. The what-ifs extend
// the baseline: this also catches an id removed from the baseline that a
// what-if still names.
TEST_CASE("every bundled scenario file loads and runs") {
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(source_dir + "/scenarios"))
        if (entry.is_regular_file() && entry.path().extension() == ".yaml") files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    CHECK(files.size() >= 12);  // baseline, minimal and at least ten what-ifs
    const agents::StandardModel model;
    for (const auto& file : files) {
        CAPTURE(file.string());
        const Scenario sc = load_scenario(file.string());
        check_runnable(sc);
        Count sink;
        sink.bounds = table_text_bounds(sc, SweepSpec{});
        RunOptions options;
        options.seed = sc.seed;
        const RunOutcome outcome = run_tasks(replication_tasks(sc, 0, 3), model, options, &sink);
        CHECK(outcome.completed == 3);
        CHECK(sink.records == 3);
        CHECK(sink.rows > 0);
    }
}

TEST_CASE("each what-if extends the baseline and starts with the question it asks") {
    int whatifs = 0;
    for (const auto& entry : std::filesystem::directory_iterator(source_dir + "/scenarios/whatif")) {
        if (entry.path().extension() != ".yaml") continue;
        ++whatifs;
        CAPTURE(entry.path().string());
        std::ifstream in(entry.path());
        const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        CHECK(text.rfind("# Question: ", 0) == 0);
        CHECK(text.find("extends: ../baseline.yaml") != std::string::npos);
        const Scenario sc = load_scenario(entry.path().string());
        const Scenario base = load_scenario(source_dir + "/scenarios/baseline.yaml");
        CHECK(sc.name == entry.path().stem().string());
        CHECK(sc.start == base.start);
        CHECK(sc.end == base.end);
        CHECK(sc.firms.size() == base.firms.size());
        // Lists replace rather than merge: a what-if that wrote its own `events:` would
        // silently drop the baseline's deals. Every baseline event is kept or named in the file
        // (in remove_events).
        for (const EventSpec& e : base.events) {
            const bool kept = std::any_of(sc.events.begin(), sc.events.end(),
                                          [&](const EventSpec& w) { return w.id == e.id; });
            if (!kept) CHECK_MESSAGE(text.find(e.id) != std::string::npos, "baseline event dropped: " << e.id);
        }
    }
    CHECK(whatifs >= 10);
}
