// output/: the HDF5 results writer and reader (FORMATS.md "Results file (HDF5)").
#include <doctest/doctest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "output/results_reader.hpp"
#include "output/results_writer.hpp"
#include "output/sweep_output.hpp"

using namespace entangle;
namespace fs = std::filesystem;

namespace {

struct TempDir {
    fs::path path;
    TempDir() {
        path = fs::temp_directory_path() / ("entangle_test_output_" + std::to_string(::getpid()));
        fs::remove_all(path);
        fs::create_directories(path);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

// 2 points x 3 replications, 6 months from 2024-11 (so time="2025" selects 4),
// 3 firms, 2 chips, 2 drawn parameters, every series.
RunLayout make_layout() {
    RunLayout l;
    l.command = "compare";
    l.seed = 18446744073709551557ull;  // above 2^53: must survive as uint64
    l.scenario_yaml = "name: test\nstart: 2024-11\n";
    l.point_labels = {"A", "B"};
    l.replications = 3;
    for (int i = 0; i < 6; ++i) l.times.push_back(Month::from_year_month(2024, 11) + i);
    l.firm_names = {"openai", "microsoft", "nvidia"};
    l.firm_roles = {"lab", "lab+cloud", "chipmaker"};
    l.chip_names = {"h100", "b200"};
    l.region_names = {"us"};
    l.drawn_param_names = {"firms.openai.lab.training_growth", "market.demand_growth"};
    l.network = true;
    for (const SeriesInfo& s : firm_series_info) l.firm_series.emplace_back(s.name);
    for (const SeriesInfo& s : market_series_info) l.market_series.emplace_back(s.name);
    for (const SeriesInfo& s : chip_series_info) l.chip_series.emplace_back(s.name);
    return l;
}

// Every value encodes where it belongs, so a slab in the wrong place shows.
double value(std::uint32_t point, std::uint32_t rep, std::size_t series, int t, int k) {
    return point * 1e6 + rep * 1e4 + static_cast<double>(series) * 100 + t * 10 + k;
}

ReplicationRecord make_record(const RunLayout& l, std::uint32_t point, std::uint32_t rep, bool rows = true) {
    ReplicationRecord r;
    r.point = point;
    r.replication = rep;
    r.resize(RecordShape{static_cast<int>(l.times.size()), static_cast<int>(l.firm_names.size()),
                         static_cast<int>(l.chip_names.size()), l.network});
    for (int t = 0; t < r.shape.times; ++t) {
        for (std::size_t s = 0; s < firm_series_info.size(); ++s)
            for (int f = 0; f < r.shape.firms; ++f)
                r.firm_at(static_cast<FirmSeries>(s), t, f) = value(point, rep, s, t, f);
        for (std::size_t s = 0; s < market_series_info.size(); ++s)
            r.market_at(static_cast<MarketSeries>(s), t) = value(point, rep, s, t, 0);
        for (std::size_t s = 0; s < chip_series_info.size(); ++s)
            for (int c = 0; c < r.shape.chips; ++c)
                r.chip_at(static_cast<ChipSeries>(s), t, c) = value(point, rep, s, t, c);
        if (r.shape.network)
            for (int a = 0; a < r.shape.firms; ++a)
                for (int b = 0; b < r.shape.firms; ++b) {
                    r.flow_at(t, a, b) = static_cast<float>(value(0, rep, 0, t, a * 3 + b));
                    r.equity_at(t, a, b) = static_cast<float>(0.125 * (a + b) + point);
                }
    }
    r.drawn.clear();
    for (std::size_t i = 0; i < l.drawn_param_names.size(); ++i)
        r.drawn.push_back(value(point, rep, i, 0, 0) + 0.5);
    if (rows) {
        const std::string tag = std::to_string(point) + "-" + std::to_string(rep);
        r.contracts.push_back(ContractRow{"c" + tag, "capacity", "microsoft", "openai", "2024-11", "2025-01",
                                          "2027-12", 1000.0 + rep, 2.5, 1.5e9 + point, rep == 1, false, true,
                                          "active", ""});
        r.events.push_back(
            EventRow{"2025-02", "contract_signed", "microsoft;openai", "signed c" + tag + " — ü"});
        r.events.push_back(EventRow{"2025-03", "agi", "", ""});
    }
    return r;
}

const std::vector<std::pair<std::uint32_t, std::uint32_t>> out_of_order{{1, 2}, {0, 0}, {1, 0},
                                                                        {0, 2}, {0, 1}, {1, 1}};

fs::path write_full(const fs::path& path, const RunLayout& l, WriterOptions options = {}) {
    ResultsWriter writer(path, l, options);
    for (const auto& [p, r] : out_of_order) writer.write(make_record(l, p, r));
    writer.finish(true);
    return path;
}

std::string slurp(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace

TEST_CASE("results writer: slabs land at [point, replication] whatever the arrival order") {
    TempDir dir;
    const RunLayout l = make_layout();
    const fs::path file = write_full(dir.path / "out.h5", l);
    CHECK(fs::exists(file));
    CHECK_FALSE(fs::exists(partial_path_for(file)));

    const std::size_t T = 6, F = 3, C = 2;
    CHECK(read_shape(file, "/firm/cash") == std::vector<std::uint64_t>{2, 3, T, F});
    for (std::size_t s = 0; s < firm_series_info.size(); ++s) {
        const std::vector<double> v =
            read_dataset_double(file, "/firm/" + std::string(firm_series_info[s].name));
        REQUIRE(v.size() == 2 * 3 * T * F);
        for (std::uint32_t p = 0; p < 2; ++p)
            for (std::uint32_t r = 0; r < 3; ++r)
                for (std::size_t t = 0; t < T; ++t)
                    for (std::size_t f = 0; f < F; ++f)
                        CHECK(v[((p * 3 + r) * T + t) * F + f] ==
                              value(p, r, s, static_cast<int>(t), static_cast<int>(f)));
    }
    const std::vector<double> spot = read_dataset_double(file, "/market/spot_volume");
    CHECK(spot[(1 * 3 + 2) * T + 4] == value(1, 2, 1, 4, 0));
    const std::vector<double> installed = read_dataset_double(file, "/chip/installed");
    CHECK(installed[((0 * 3 + 1) * T + 5) * C + 1] == value(0, 1, 2, 5, 1));
    const std::vector<double> flow = read_dataset_double(file, "/network/capacity_flow");
    CHECK(flow[(((1 * 3 + 1) * T + 2) * F + 2) * F + 0] == value(0, 1, 0, 2, 6));
    const std::vector<double> equity = read_dataset_double(file, "/network/equity");
    CHECK(equity[(((1 * 3 + 0) * T + 0) * F + 1) * F + 2] == 0.125 * 3 + 1);
    const std::vector<double> growth =
        read_dataset_double(file, "/params/firms__openai__lab__training_growth");
    CHECK(growth ==
          std::vector<double>{0.5, 1e4 + 0.5, 2e4 + 0.5, 1e6 + 0.5, 1e6 + 1e4 + 0.5, 1e6 + 2e4 + 0.5});
    CHECK(read_attribute_string(file, "/params/firms__openai__lab__training_growth", "key_path") ==
          "firms.openai.lab.training_growth");
    CHECK(read_dataset_double(file, "/params/market__demand_growth")[4] == value(1, 1, 1, 0, 0) + 0.5);
}

TEST_CASE("results writer: root attributes, coordinates, units and dims") {
    TempDir dir;
    const RunLayout l = make_layout();
    const fs::path file = write_full(dir.path / "out.h5", l);

    CHECK(read_root_attribute_string(file, "schema_version") == "1.0");
    CHECK(read_root_attribute_string(file, "entangle_version") == ENTANGLE_VERSION);
    CHECK(read_root_attribute_string(file, "command") == "compare");
    CHECK(read_root_attribute_string(file, "scenario_yaml") == l.scenario_yaml);
    CHECK(read_attribute_uint(file, "/", "seed") == 18446744073709551557ull);
    CHECK(read_attribute_uint(file, "/", "complete") == 1);
    const std::string created = read_root_attribute_string(file, "created");
    REQUIRE(created.size() == 20);  // 2025-01-31T12:00:00Z
    CHECK(created[4] == '-');
    CHECK(created[10] == 'T');
    CHECK(created.back() == 'Z');
    CHECK_THROWS_AS(read_root_attribute_string(file, "sweep_yaml"), OutputError);  // only for sweeps

    CHECK(read_dataset_strings(file, "/coords/firm") == l.firm_names);
    CHECK(read_dataset_strings(file, "/coords/firm_roles") == l.firm_roles);
    CHECK(read_dataset_strings(file, "/coords/chip") == l.chip_names);
    CHECK(read_dataset_strings(file, "/coords/region") == l.region_names);
    CHECK(read_dataset_strings(file, "/coords/point") == l.point_labels);
    CHECK(read_dataset_double(file, "/coords/replication") == std::vector<double>{0, 1, 2});
    // 2024-11-01 is day 20028 since 1970-01-01.
    const std::vector<double> days = read_dataset_double(file, "/coords/time");
    REQUIRE(days.size() == 6);
    CHECK(days[0] == 20028);
    CHECK(days[2] == 20028 + 30 + 31);
    CHECK(read_attribute_string(file, "/coords/time", "units") == "days since 1970-01-01");
    CHECK(read_attribute_string(file, "/coords/time", "calendar") == "proleptic_gregorian");
    CHECK(read_dims(file, "/coords/firm_roles") == std::vector<std::string>{"firm"});

    for (const std::string group : {"firm", "market", "chip", "network"}) {
        CAPTURE(group);
        CHECK(read_dataset_double(file, "/" + group + "/time") == days);
        CHECK(read_attribute_string(file, "/" + group + "/time", "units") == "days since 1970-01-01");
    }
    CHECK(read_dataset_strings(file, "/params/point") == l.point_labels);
    CHECK(read_dataset_strings(file, "/firm/firm") == l.firm_names);
    CHECK(read_dataset_strings(file, "/network/holder") == l.firm_names);
    CHECK(read_dataset_strings(file, "/market/point") == l.point_labels);

    CHECK(read_dims(file, "/firm/cash") == std::vector<std::string>{"point", "replication", "time", "firm"});
    CHECK(read_dims(file, "/market/spot_price") == std::vector<std::string>{"point", "replication", "time"});
    CHECK(read_dims(file, "/chip/price") == std::vector<std::string>{"point", "replication", "time", "chip"});
    CHECK(read_dims(file, "/network/capacity_flow") ==
          std::vector<std::string>{"point", "replication", "time", "supplier", "customer"});
    CHECK(read_dims(file, "/network/equity") ==
          std::vector<std::string>{"point", "replication", "time", "holder", "target"});
    CHECK(read_dims(file, "/params/market__demand_growth") ==
          std::vector<std::string>{"point", "replication"});

    for (const SeriesInfo& s : firm_series_info) {
        CHECK(read_attribute_string(file, "/firm/" + std::string(s.name), "units") == s.units);
        CHECK(read_attribute_string(file, "/firm/" + std::string(s.name), "long_name") == s.long_name);
    }
    CHECK(read_attribute_string(file, "/market/spot_price", "units") == "USD per H100e-hour");
    CHECK(read_attribute_string(file, "/chip/shipped", "units") == "units per month");
    CHECK(read_attribute_string(file, "/network/equity", "long_name") == equity_info.long_name);
    CHECK(read_attribute_string(file, "/tables/contracts", "long_name").size() > 0);
}

TEST_CASE("results writer: table rows are appended as records arrive") {
    TempDir dir;
    const RunLayout l = make_layout();
    const fs::path file = write_full(dir.path / "out.h5", l);

    const std::vector<ContractTableRow> contracts = read_contracts(file);
    REQUIRE(contracts.size() == 6);
    for (std::size_t i = 0; i < out_of_order.size(); ++i) {
        CAPTURE(i);
        CHECK(contracts[i].point == out_of_order[i].first);
        CHECK(contracts[i].replication == out_of_order[i].second);
    }
    const ContractTableRow& c = contracts[0];  // point 1, replication 2
    CHECK(c.row.id == "c1-2");
    CHECK(c.row.kind == "capacity");
    CHECK(c.row.seller == "microsoft");
    CHECK(c.row.buyer == "openai");
    CHECK(c.row.signed_month == "2024-11");
    CHECK(c.row.start == "2025-01");
    CHECK(c.row.end == "2027-12");
    CHECK(c.row.quantity_h100e == 1002.0);
    CHECK(c.row.price_usd_per_h100e_hour == 2.5);
    CHECK(c.row.value_usd == 1.5e9 + 1);
    CHECK_FALSE(c.row.exclusive);
    CHECK_FALSE(c.row.rofr);
    CHECK(c.row.until_agi);
    CHECK(c.row.status == "active");
    CHECK(c.row.end_reason == "");
    CHECK(contracts[4].row.exclusive);  // replication 1

    const std::vector<EventTableRow> events = read_events(file);
    REQUIRE(events.size() == 12);
    CHECK(events[0].point == 1);
    CHECK(events[0].replication == 2);
    CHECK(events[0].row.time == "2025-02");
    CHECK(events[0].row.kind == "contract_signed");
    CHECK(events[0].row.firms == "microsoft;openai");
    CHECK(events[0].row.text == "signed c1-2 — ü");
    CHECK(events[1].row.kind == "agi");
    CHECK(events[1].row.text == "");
}

TEST_CASE("results writer: bounded text columns stored fixed-length read back as variable-length ones; longer is refused") {
    TempDir dir;
    const RunLayout l = make_layout();
    const fs::path variable = write_full(dir.path / "variable.h5", l);
    CHECK(read_table_text_bounds(variable) == TableTextBounds{});
    // Exactly the longest values of make_record (id "c1-2", kind "capacity", "microsoft", ...).
    WriterOptions options;
    options.table_text = TableTextBounds{4, 8, 9, 7, 6, 1, 15, 16};
    const fs::path fixed = write_full(dir.path / "fixed.h5", l, options);
    CHECK(read_table_text_bounds(fixed) == options.table_text);

    const std::vector<ContractTableRow> cv = read_contracts(variable), cf = read_contracts(fixed);
    REQUIRE(cv.size() == cf.size());
    for (std::size_t i = 0; i < cv.size(); ++i) {
        CAPTURE(i);
        const ContractRow &a = cv[i].row, &b = cf[i].row;
        CHECK(cv[i].point == cf[i].point);
        CHECK(cv[i].replication == cf[i].replication);
        for (auto field : {&ContractRow::id, &ContractRow::kind, &ContractRow::seller, &ContractRow::buyer,
                           &ContractRow::signed_month, &ContractRow::start, &ContractRow::end, &ContractRow::status,
                           &ContractRow::end_reason})
            CHECK(a.*field == b.*field);
        CHECK(a.quantity_h100e == b.quantity_h100e);
        CHECK(a.value_usd == b.value_usd);
        CHECK(a.exclusive == b.exclusive);
        CHECK(a.until_agi == b.until_agi);
    }
    CHECK(cf[0].row.id == "c1-2");
    CHECK(cf[0].row.end_reason.empty());
    const std::vector<EventTableRow> ev = read_events(variable), ef = read_events(fixed);
    REQUIRE(ev.size() == ef.size());
    for (std::size_t i = 0; i < ev.size(); ++i) {
        CAPTURE(i);
        CHECK(ev[i].row.time == ef[i].row.time);
        CHECK(ev[i].row.kind == ef[i].row.kind);
        CHECK(ev[i].row.firms == ef[i].row.firms);
        CHECK(ev[i].row.text == ef[i].row.text);
    }
    CHECK(ef[0].row.firms == "microsoft;openai");  // fills its 16 bytes: no terminating NUL in the file

    // A value longer than its column: an error naming it, nothing cut.
    options.table_text.firm = 6;  // "microsoft" is 9 bytes
    ResultsWriter narrow(dir.path / "narrow.h5", l, options);
    CHECK_THROWS_WITH_AS(narrow.write(make_record(l, 0, 0)), doctest::Contains("'microsoft' of column 'seller'"),
                         OutputError);
}

TEST_CASE("results writer: FINAL.partial until finish(true), and an older FINAL untouched until then") {
    TempDir dir;
    const RunLayout l = make_layout();
    const fs::path file = dir.path / "out.h5";
    const fs::path partial = partial_path_for(file);
    CHECK(partial.filename() == "out.h5.partial");
    { std::ofstream(file) << "older results"; }
    { std::ofstream(partial) << "an older partial file"; }

    {
        ResultsWriter writer(file, l);
        CHECK(writer.partial_path() == partial);
        CHECK(fs::exists(partial));
        for (const auto& [p, r] : out_of_order) writer.write(make_record(l, p, r));
        CHECK(slurp(file) == "older results");
        writer.finish(true);
        writer.finish(true);  // a second call does nothing
    }
    CHECK_FALSE(fs::exists(partial));
    CHECK(read_attribute_uint(file, "/", "complete") == 1);
    const std::string finished = slurp(file);

    SUBCASE("finish(false) leaves only the .partial, with complete=false") {
        ResultsWriter writer(file, l);
        writer.write(make_record(l, 0, 1));
        writer.finish(false);
        CHECK(fs::exists(partial));
        CHECK(slurp(file) == finished);
        CHECK(read_attribute_uint(partial, "/", "complete") == 0);
        const std::vector<double> cash = read_dataset_double(partial, "/firm/cash");
        CHECK(cash[(0 * 3 + 1) * 6 * 3] == value(0, 1, 0, 0, 0));
        CHECK(std::isnan(cash[0]));  // replications never written read as NaN
        CHECK(read_contracts(partial).size() == 1);
        CHECK_THROWS_AS(writer.write(make_record(l, 0, 2)), OutputError);
    }
    SUBCASE("the destructor without finish is finish(false)") {
        {
            ResultsWriter writer(file, l);
            writer.write(make_record(l, 1, 1));
        }
        CHECK(fs::exists(partial));
        CHECK(slurp(file) == finished);
        CHECK(read_attribute_uint(partial, "/", "complete") == 0);
    }
    SUBCASE("finish(true) with replications missing keeps the .partial and says so") {
        ResultsWriter writer(file, l);
        writer.write(make_record(l, 1, 1));
        CHECK_THROWS_WITH_AS(writer.finish(true), doctest::Contains("1 of 6 replications"), OutputError);
        CHECK(fs::exists(partial));
        CHECK(slurp(file) == finished);
        CHECK(read_attribute_uint(partial, "/", "complete") == 0);
    }
}

TEST_CASE("results writer: records that do not fit the layout are refused") {
    TempDir dir;
    const RunLayout l = make_layout();
    ResultsWriter writer(dir.path / "out.h5", l);
    writer.write(make_record(l, 0, 0));
    CHECK_THROWS_WITH_AS(writer.write(make_record(l, 0, 0)), doctest::Contains("already written"),
                         OutputError);
    CHECK_THROWS_WITH_AS(writer.write(make_record(l, 2, 0)), doctest::Contains("2 points"), OutputError);
    CHECK_THROWS_WITH_AS(writer.write(make_record(l, 0, 3)), doctest::Contains("3 replications"),
                         OutputError);
    ReplicationRecord wrong = make_record(l, 0, 1);
    wrong.resize(RecordShape{5, 3, 2, true});
    wrong.drawn = {1, 2};
    CHECK_THROWS_WITH_AS(writer.write(wrong), doctest::Contains("shape.times is 5"), OutputError);
    ReplicationRecord no_draws = make_record(l, 0, 1);
    no_draws.drawn.clear();
    CHECK_THROWS_WITH_AS(writer.write(no_draws), doctest::Contains("number of drawn values"), OutputError);

    RunLayout bad = l;
    bad.firm_series.push_back("cahs");
    CHECK_THROWS_WITH_AS(ResultsWriter(dir.path / "bad.h5", bad),
                         doctest::Contains("unknown firm series 'cahs'"), OutputError);
    CHECK_THROWS_WITH_AS(ResultsWriter(dir.path / "no/such/dir/out.h5", l),
                         doctest::Contains("cannot create results file"), OutputError);
}

namespace {

// Every series dataset the layout has ("/firm/cash", ..., "/params/...").
std::vector<std::string> series_datasets(const RunLayout& l, bool network) {
    std::vector<std::string> names;
    for (const std::string& s : l.firm_series) names.push_back("/firm/" + s);
    for (const std::string& s : l.market_series) names.push_back("/market/" + s);
    for (const std::string& s : l.chip_series) names.push_back("/chip/" + s);
    if (network) names.insert(names.end(), {"/network/capacity_flow", "/network/equity"});
    names.push_back("/params/firms__openai__lab__training_growth");
    names.push_back("/params/market__demand_growth");
    return names;
}

// Bit for bit (NaN included), every value of every series and table.
void check_same_values(const fs::path& a, const fs::path& b, const RunLayout& l, bool network) {
    for (const std::string& name : series_datasets(l, network)) {
        CAPTURE(name);
        const std::vector<double> x = read_dataset_double(a, name), y = read_dataset_double(b, name);
        REQUIRE(x.size() == y.size());
        CHECK(std::memcmp(x.data(), y.data(), x.size() * sizeof(double)) == 0);
    }
    const std::vector<ContractTableRow> ca = read_contracts(a), cb = read_contracts(b);
    REQUIRE(ca.size() == cb.size());
    for (std::size_t i = 0; i < ca.size(); ++i) {
        CHECK(ca[i].replication == cb[i].replication);
        CHECK(ca[i].row.id == cb[i].row.id);
        CHECK(ca[i].row.value_usd == cb[i].row.value_usd);
    }
    CHECK(read_events(a).size() == read_events(b).size());
}

// Like write_full, but each record is encoded first, all on their own threads
// at once (as the runner's parallel stage does).
fs::path write_full_encoded(const fs::path& path, const RunLayout& l, WriterOptions options = {}) {
    ResultsWriter writer(path, l, options);
    std::vector<ReplicationRecord> records;
    for (const auto& [p, r] : out_of_order) records.push_back(make_record(l, p, r));
    records[1].market_at(MarketSeries::spot_price, 2) = std::nan("");  // NaNs survive too
    std::vector<std::thread> threads;
    for (ReplicationRecord& r : records) threads.emplace_back([&writer, &r] { writer.encode(r); });
    for (std::thread& t : threads) t.join();
    for (const ReplicationRecord& r : records) {
        REQUIRE_FALSE(r.encoded.empty());
        writer.write(r);
    }
    writer.finish(true);
    return path;
}

}  // namespace

TEST_CASE("results writer: chunks compressed by encode() read back as those H5Dwrite compresses") {
    TempDir dir;
    const RunLayout l = make_layout();
    for (const WriterOptions options : {WriterOptions{}, WriterOptions{0, false}, WriterOptions{1, true}}) {
        CAPTURE(options.gzip_level);
        CAPTURE(options.skip_network);
        const fs::path encoded = write_full_encoded(dir.path / "encoded.h5", l, options);
        const fs::path plain = dir.path / "plain.h5";
        {
            ResultsWriter writer(plain, l, options);
            for (const auto& [p, r] : out_of_order) {
                ReplicationRecord record = make_record(l, p, r);
                if (p == 0 && r == 0) record.market_at(MarketSeries::spot_price, 2) = std::nan("");
                writer.write(record);
            }
            writer.finish(true);
        }
        CHECK(std::isnan(read_dataset_double(encoded, "/market/spot_price")[2]));  // point 0, rep 0, t 2
        check_same_values(encoded, plain, l, !options.skip_network);
    }

    SUBCASE("write() stores the chunks as encode() made them, not the arrays") {
        const fs::path file = dir.path / "stale.h5";
        ResultsWriter writer(file, l);
        ReplicationRecord r = make_record(l, 0, 0);
        writer.encode(r);
        r.firm_at(FirmSeries::cash, 0, 0) = -1;  // after encode: not written
        writer.write(r);
        ReplicationRecord unencoded = make_record(l, 0, 1);
        unencoded.firm_at(FirmSeries::cash, 0, 0) = -1;
        writer.write(unencoded);
        writer.finish(false);
        const std::vector<double> cash = read_dataset_double(partial_path_for(file), "/firm/cash");
        CHECK(cash[0] == value(0, 0, 0, 0, 0));
        CHECK(cash[6 * 3] == -1);
        CHECK(std::isnan(cash[2 * 6 * 3]));  // replication 2: never written, the fill value
    }
    SUBCASE("a record that does not fit the layout is not encoded, and write() says why") {
        ResultsWriter writer(dir.path / "bad.h5", l);
        ReplicationRecord wrong = make_record(l, 0, 1);
        wrong.resize(RecordShape{5, 3, 2, true});
        wrong.drawn = {1, 2};
        writer.encode(wrong);
        CHECK(wrong.encoded.empty());
        CHECK_THROWS_WITH_AS(writer.write(wrong), doctest::Contains("shape.times is 5"), OutputError);
    }
}

TEST_CASE("results writer: encode() splits slabs over 4 MiB into chunks on time like the plain path") {
    TempDir dir;
    // 110 firms x 91 months: a network slab is 4.4 MB, stored as chunks of 46
    // and 45 (an edge chunk padded past the extent) months.
    RunLayout l = make_layout();
    l.point_labels = {"baseline"};
    l.replications = 3;
    l.times.clear();
    for (int i = 0; i < 91; ++i) l.times.push_back(Month::from_year_month(2024, 11) + i);
    l.firm_names.clear();
    for (int i = 0; i < 110; ++i) l.firm_names.push_back("firm" + std::to_string(i));
    l.firm_roles.assign(110, "lab");
    const fs::path plain = dir.path / "plain.h5", encoded = dir.path / "encoded.h5";
    for (const bool encode : {false, true}) {
        ResultsWriter writer(encode ? encoded : plain, l);
        for (std::uint32_t rep : {1u, 0u}) {  // replication 2 never written: NaN in both
            ReplicationRecord r = make_record(l, 0, rep);
            if (encode) {
                writer.encode(r);
                CHECK(r.encoded.size() ==
                      l.firm_series.size() + l.market_series.size() + l.chip_series.size() + 2 * 2);
            }
            writer.write(r);
        }
        writer.finish(false);
    }
    check_same_values(partial_path_for(encoded), partial_path_for(plain), l, true);
    const std::vector<double> flow = read_dataset_double(partial_path_for(encoded), "/network/capacity_flow");
    CHECK(flow[((1 * 91 + 90) * 110 + 1) * 110 + 2] == static_cast<float>(value(0, 1, 0, 90, 3 + 2)));
    CHECK(std::isnan(flow[((2 * 91 + 50) * 110) * 110]));
}

TEST_CASE("results reader: clear errors for files that are not results") {
    TempDir dir;
    CHECK_THROWS_WITH_AS(describe_results(dir.path / "missing.h5"), doctest::Contains("does not exist"),
                         OutputError);
    { std::ofstream(dir.path / "text.h5") << "not hdf5"; }
    CHECK_THROWS_WITH_AS(describe_results(dir.path / "text.h5"),
                         doctest::Contains("not an entangle results file"), OutputError);
    const fs::path file = write_full(dir.path / "out.h5", make_layout());
    CHECK_THROWS_WITH_AS(read_dataset_double(file, "/firm/nope"), doctest::Contains("/firm/nope"),
                         OutputError);
}

TEST_CASE("results writer: empty tables, no chips, no parameters, no network") {
    TempDir dir;
    RunLayout l = make_layout();
    l.command = "run";
    l.point_labels = {"baseline"};
    l.chip_names.clear();
    l.drawn_param_names.clear();
    l.network = false;
    l.firm_series = {"cash", "valuation"};
    l.command = "sweep";
    l.sweep_yaml = "points: 1\n";
    const fs::path file = dir.path / "out.h5";
    {
        ResultsWriter writer(file, l);
        for (std::uint32_t r = 0; r < 3; ++r) writer.write(make_record(l, 0, r, false));
        writer.finish(true);
    }
    CHECK(read_root_attribute_string(file, "sweep_yaml") == l.sweep_yaml);
    CHECK(read_contracts(file).empty());
    CHECK(read_events(file).empty());
    CHECK(read_shape(file, "/tables/contracts") == std::vector<std::uint64_t>{0});
    CHECK(read_shape(file, "/chip/price") == std::vector<std::uint64_t>{1, 3, 6, 0});
    CHECK_THROWS_AS(read_shape(file, "/network/capacity_flow"), OutputError);
    CHECK_THROWS_AS(read_shape(file, "/firm/revenue"), OutputError);  // not in layout.firm_series
    CHECK(read_dataset_double(file, "/firm/valuation")[3 * 6 * 3 - 1] == value(0, 2, 8, 5, 2));
}

TEST_CASE("results writer: skip_network leaves /network empty") {
    TempDir dir;
    const fs::path file = write_full(dir.path / "out.h5", make_layout(), WriterOptions{1, true});
    CHECK_THROWS_AS(read_shape(file, "/network/equity"), OutputError);
    CHECK(read_dataset_double(file, "/firm/cash").size() == 2 * 3 * 6 * 3);
}

TEST_CASE("describe_results: attributes, groups, tables and the per-firm summary") {
    TempDir dir;
    const fs::path file = write_full(dir.path / "out.h5", make_layout());
    const std::string text = describe_results(file);
    CAPTURE(text);
    CHECK(text.find("command           compare") != std::string::npos);
    CHECK(text.find("seed              18446744073709551557") != std::string::npos);
    CHECK(text.find("complete          true") != std::string::npos);
    CHECK(text.find("/firm   coordinates: point(2) replication(3) time(6) firm(3)") != std::string::npos);
    CHECK(text.find("(point, replication, time, supplier, customer) 2 x 3 x 6 x 3 x 3  [H100e]") !=
          std::string::npos);
    CHECK(text.find("contracts  6 rows") != std::string::npos);
    CHECK(text.find("events     12 rows") != std::string::npos);
    CHECK(text.find("Firms at 2025-04, point 'A', mean over 3 of 3 replications") != std::string::npos);
    // cash of nvidia (firm 2) at t=5, point 0: mean over r of r*1e4 + 50 + 2 = 10052.
    CHECK(text.find("nvidia") != std::string::npos);
    CHECK(text.find("1.005e+04") != std::string::npos);
}

TEST_CASE("results file reads in xarray (h5netcdf) and pandas: tests/scenario/check_results.py") {
    if (std::system("/usr/bin/python3 -c 'import xarray, h5netcdf, h5py, pandas' >/dev/null 2>&1") != 0) {
        MESSAGE("skipped: /usr/bin/python3 cannot import xarray, h5netcdf, h5py and pandas");
        return;
    }
    TempDir dir;
    const std::string script = std::string(ENTANGLE_SOURCE_DIR) + "/tests/scenario/check_results.py";
    const fs::path full = write_full(dir.path / "full.h5", make_layout());
    CHECK(std::system(("/usr/bin/python3 '" + script + "' '" + full.string() + "'").c_str()) == 0);
    const fs::path encoded = write_full_encoded(dir.path / "encoded.h5", make_layout());
    CHECK(std::system(("/usr/bin/python3 '" + script + "' '" + encoded.string() + "'").c_str()) == 0);
    // The chunks encode() compressed (libdeflate, not HDF5's zlib) decode in h5py to the numbers written.
    const std::string decode =
        "import h5py, numpy as np, sys\n"
        "f = h5py.File(sys.argv[1], 'r')\n"
        "for name, s in (('firm/cash', int(sys.argv[2])), ('firm/revenue', int(sys.argv[3]))):\n"
        "    d = f[name]\n"
        "    assert d.compression == 'gzip' and d.shuffle, name\n"
        "    p, r, t, k = np.meshgrid(*[np.arange(n) for n in d.shape], indexing='ij')\n"
        "    assert (d[...] == p * 1e6 + r * 1e4 + s * 100 + t * 10 + k).all(), name\n";
    const fs::path decode_script = dir.path / "decode.py";
    std::ofstream(decode_script) << decode;
    CHECK(std::system(("/usr/bin/python3 '" + decode_script.string() + "' '" + encoded.string() + "' " +
                       std::to_string(static_cast<int>(FirmSeries::cash)) + " " +
                       std::to_string(static_cast<int>(FirmSeries::revenue)))
                          .c_str()) == 0);

    RunLayout l = make_layout();
    l.point_labels = {"baseline"};
    l.chip_names.clear();
    l.drawn_param_names.clear();
    l.network = false;
    const fs::path sparse = dir.path / "sparse.h5";
    {
        ResultsWriter writer(sparse, l);
        for (std::uint32_t r = 0; r < 3; ++r) writer.write(make_record(l, 0, r, false));
        writer.finish(true);
    }
    CHECK(std::system(("/usr/bin/python3 '" + script + "' '" + sparse.string() + "'").c_str()) == 0);
}

TEST_CASE("sweep assembler: writes each point once every point before it is journaled, by any process") {
    TempDir dir;
    RunLayout l = make_layout();
    l.command = "sweep";
    l.point_labels = {"0", "1", "2", "3"};
    const fs::path out = dir.path / "sweep.h5";
    const PointRange points{0, 1, 4};
    const auto point_records = [&](std::uint32_t p, const JournalSink& sink) {
        std::vector<ReplicationRecord> records;
        for (std::uint32_t r = 0; r < 3; ++r) {
            records.push_back(make_record(l, p, r));
            sink.encode(records.back());
            REQUIRE_FALSE(records.back().encoded.empty());
        }
        return records;
    };
    for (const bool background : {false, true}) {
        CAPTURE(background);
        SweepAssembler assembler(out, l, points, "identity", {journal_path_for(out, 0), journal_path_for(out, 1)},
                                 background);
        JournalSink own(out, l, "identity", 0, false, {}, &assembler);
        JournalSink other(out, l, "identity", 1, false);  // another rank's: the assembler is not told
        const auto wait_for = [&](std::size_t n) {
            for (int i = 0; i < 200 && assembler.points_written() < n; ++i) {
                if (!background) assembler.journal_grew();  // inline: it looks when told
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            }
            return assembler.points_written();
        };
        std::vector<ReplicationRecord> records = point_records(1, own);
        own.write_point(1, records);
        CHECK(wait_for(1) == 0);  // point 0 is not journaled yet
        records = point_records(0, other);
        other.write_point(0, records);
        CHECK(wait_for(2) == 2);  // found in the other journal, then point 1 follows
        records = point_records(3, own);
        own.write_point(3, records);
        CHECK(wait_for(3) == 2);  // point 2 is missing: point 3 waits
        CHECK(assembler.finish(true) == 3);  // point 3 is written after the gap
        const fs::path partial = partial_path_for(out);
        REQUIRE(fs::exists(partial));
        CHECK(read_attribute_uint(partial, "/", "complete") == 0);
        CHECK(fs::exists(journal_path_for(out, 0)));  // kept: the sweep is not complete
        const std::vector<double> cash = read_dataset_double(partial, "/firm/cash");
        const std::size_t per_point = cash.size() / 4, per_rep = per_point / 3;
        for (const std::uint32_t p : {0u, 1u, 3u})
            for (std::uint32_t r = 0; r < 3; ++r)
                CHECK(cash[p * per_point + r * per_rep] == value(p, r, static_cast<std::size_t>(FirmSeries::cash), 0, 0));
        CHECK(std::isnan(cash[2 * per_point]));
        std::vector<std::uint32_t> row_points;
        for (const ContractTableRow& c : read_contracts(partial)) row_points.push_back(c.point);
        CHECK(row_points == std::vector<std::uint32_t>{0, 0, 0, 1, 1, 1, 3, 3, 3});  // ordered by point
        fs::remove(journal_path_for(out, 0));
        fs::remove(journal_path_for(out, 1));
    }
}
