// `entangle sweep` and `entangle merge` as a user meets them: every way of
// running a sweep (threads, interrupted and resumed, killed and resumed,
// shards merged, MPI ranks) gives the same numbers as one plain run.
#include <doctest/doctest.h>

#include "tests/cli_support.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <fstream>
#include <optional>
#include <string>
#include <thread>

#include "engine/scenario/sweep_loader.hpp"
#include "engine/sweep_runner.hpp"
#include "output/results_reader.hpp"
#include "output/results_writer.hpp"
#include "output/sweep_journal.hpp"

extern char** environ;

namespace fs = std::filesystem;
using namespace entangle;

namespace {

const std::string binary = ENTANGLE_BINARY;
const std::string sweeps = std::string(ENTANGLE_TEST_DATA_DIR) + "/sweep/";

using Result = entangle::testing::CommandResult;
using entangle::testing::write_file;
using entangle::testing::ScratchDir;
inline Result run(const std::string& arguments) { return entangle::testing::run_entangle(arguments); }

// Starts `command` through the shell (which execs it), waits until `ready()`,
// sends `signal` to it and returns the wait status.
int spawn_and_signal(const std::string& command, const std::function<bool()>& ready, int signal) {
    const std::string line = "exec " + command + " >/dev/null 2>&1";
    const char* argv[] = {"sh", "-c", line.c_str(), nullptr};
    pid_t pid = 0;
    REQUIRE(posix_spawn(&pid, "/bin/sh", nullptr, nullptr, const_cast<char**>(argv), environ) == 0);
    int status = 0;
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::minutes(2);
    while (!ready() && std::chrono::steady_clock::now() < give_up) {
        if (waitpid(pid, &status, WNOHANG) == pid) return status;  // ended before it was ready
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    kill(pid, signal);
    waitpid(pid, &status, 0);
    return status;
}

// The same once the sweep writing `results` has journaled its first point (rank
// 0's journal holds a checked entry: by then entangle handles signals and there
// is work to keep). Waiting for a point, not a fixed time from the start, keeps
// the test right on any machine: on a loaded one starting up can take longer
// than any fixed delay, and on a fast one a fixed delay outlasted the whole
// sweep (the test then met a finished file). The sweeps are sized so that the
// points after the first take seconds, far longer than the signal takes to land
// (about a second through mpirun's SIGTERM).
int spawn_and_signal(const std::string& command, const fs::path& results, int signal) {
    JournalTail first_journal(journal_path_for(results, 0), 0);
    std::size_t points_journaled = 0;
    return spawn_and_signal(
        command,
        [&] {
            first_journal.poll(false, [&](const JournalEntry&, std::span<const unsigned char>) { ++points_journaled; });
            return points_journaled > 0;
        },
        signal);
}

// The same for `entangle arguments` (the shell execs it, so the pid is entangle's).
int run_and_signal(const std::string& arguments, const fs::path& results, int signal) {
    return spawn_and_signal(binary + " " + arguments, results, signal);
}

std::string dataset_name(const std::string& key_path) {  // as docs/results.md: '.' -> "__"
    std::string out;
    for (const char c : key_path) out += c == '.' ? std::string("__") : std::string(1, c);
    return out;
}

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

// Every number and label of two results files, bit for bit (the `created`
// time and the assembly order of HDF5's own metadata may differ).
void check_same_results(const fs::path& a, const fs::path& b) {
    INFO("comparing " << a.string() << " with " << b.string());
    const RunLayout la = read_layout(a), lb = read_layout(b);
    REQUIRE(la.point_labels == lb.point_labels);
    CHECK(la.statistics == lb.statistics);
    CHECK(la.firm_series == lb.firm_series);
    CHECK(la.drawn_param_names == lb.drawn_param_names);
    CHECK(read_attribute_uint(b, "/", "complete") == 1);
    std::vector<std::string> datasets;
    for (const std::string& s : la.firm_series) datasets.push_back("/firm/" + s);
    for (const std::string& s : la.market_series) datasets.push_back("/market/" + s);
    for (const std::string& s : la.chip_series) datasets.push_back("/chip/" + s);
    if (la.network) datasets.insert(datasets.end(), {"/network/capacity_flow", "/network/equity"});
    for (const std::string& k : la.drawn_param_names) datasets.push_back("/params/" + dataset_name(k));
    for (const RunLayout::SweptParam& p : la.swept_params)
        if (p.type != RunLayout::SweptParam::Type::text) datasets.push_back("/params/" + dataset_name(p.key_path));
    for (const std::string& d : datasets) {
        INFO("dataset " << d);
        CHECK(same_bits(read_dataset_double(a, d), read_dataset_double(b, d)));
    }
    for (std::size_t j = 0; j < la.swept_params.size(); ++j) CHECK(la.swept_params[j].values == lb.swept_params[j].values);
    // Rows compared in one check each table: a run's tables hold hundreds of thousands.
    const auto ca = read_contracts(a), cb = read_contracts(b);
    REQUIRE(ca.size() == cb.size());
    std::size_t contracts_differing = 0;
    for (std::size_t i = 0; i < ca.size(); ++i)
        contracts_differing += ca[i].point != cb[i].point || ca[i].replication != cb[i].replication ||
                               ca[i].row.id != cb[i].row.id || ca[i].row.value_usd != cb[i].row.value_usd;
    CHECK(contracts_differing == 0);
    const auto ea = read_events(a), eb = read_events(b);
    REQUIRE(ea.size() == eb.size());
    std::size_t events_differing = 0;
    for (std::size_t i = 0; i < ea.size(); ++i)
        events_differing += ea[i].point != eb[i].point || ea[i].replication != eb[i].replication || ea[i].row.text != eb[i].row.text;
    CHECK(events_differing == 0);
}

bool have_python_xarray() { return std::system("/usr/bin/python3 -c 'import xarray, h5netcdf' >/dev/null 2>&1") == 0; }

}  // namespace

TEST_CASE("cli sweep: statistics per point are the same on 1 and 2 threads and the file reads with xarray") {
    const ScratchDir scratch("sweep_threads");
    const fs::path& dir = scratch.path;
    const fs::path a = dir / "a.h5", b = dir / "b.h5";
    REQUIRE(run("sweep " + sweeps + "small.yaml -o " + a.string() + " --threads 1 --quiet").exit_code == 0);
    REQUIRE(run("sweep " + sweeps + "small.yaml -o " + b.string() + " --threads 2 --quiet").exit_code == 0);
    check_same_results(a, b);
    const RunLayout layout = read_layout(a);
    CHECK(layout.statistics == std::vector<std::string>{"mean", "std", "p05", "p50", "p95"});
    CHECK(layout.point_labels.size() == 6);
    CHECK(read_shape(a, "/firm/compute") == std::vector<std::uint64_t>{6, 5, 24, 3});
    CHECK(read_dims(a, "/firm/compute") == std::vector<std::string>{"point", "statistic", "time", "firm"});
    CHECK(read_dims(a, "/params/firms__labco__lab__training_growth") == std::vector<std::string>{"point"});
    CHECK(!read_root_attribute_string(a, "sweep_yaml").empty());
    CHECK(find_journals(a).empty());  // the journal goes once the file is complete
    if (have_python_xarray())
        CHECK(std::system(("/usr/bin/python3 " + std::string(ENTANGLE_SOURCE_DIR) +
                           "/tests/scenario/check_results.py " + a.string() + " >/dev/null")
                              .c_str()) == 0);
}

TEST_CASE("cli sweep: shards merged hold what one run holds and merge refuses a missing or repeated shard") {
    const ScratchDir scratch("sweep_shards");
    const fs::path& dir = scratch.path;
    const fs::path plain = dir / "plain.h5";
    REQUIRE(run("sweep " + sweeps + "keep.yaml -o " + plain.string() + " --quiet").exit_code == 0);
    CHECK(read_shape(plain, "/firm/cash") == std::vector<std::uint64_t>{4, 3, 24, 3});
    CHECK(!read_events(plain).empty());  // the shock event, in points where it is enabled
    std::string shards;
    for (int i = 0; i < 3; ++i) {
        const fs::path shard = dir / ("s" + std::to_string(i) + ".h5");
        REQUIRE(run("sweep " + sweeps + "keep.yaml --shard " + std::to_string(i) + "/3 -o " + shard.string() +
                    " --quiet")
                    .exit_code == 0);
        shards += " " + shard.string();
    }
    CHECK(read_dataset_strings(dir / "s1.h5", "/coords/point") == std::vector<std::string>{"1"});
    // More shards than points (a job array larger than the sweep): those with none succeed, writing nothing.
    const fs::path empty = dir / "s5.h5";
    const Result none = run("sweep " + sweeps + "keep.yaml --shard 5/6 -o " + empty.string());
    CHECK(none.exit_code == 0);
    CHECK(none.output.find("none of them in this shard; nothing to run, no file written") != std::string::npos);
    CHECK_FALSE(fs::exists(empty));
    CHECK_FALSE(fs::exists(partial_path_for(empty)));
    CHECK(find_journals(empty).empty());
    const fs::path merged = dir / "merged.h5";
    REQUIRE(run("merge" + shards + " -o " + merged.string() + " --quiet").exit_code == 0);
    check_same_results(plain, merged);
    CHECK(read_table_text_bounds(plain).contract_id > 0);  // a sweep's bounded text columns are fixed-length
    CHECK(read_table_text_bounds(merged) == read_table_text_bounds(plain));
    if (have_python_xarray())
        CHECK(std::system(("/usr/bin/python3 " + std::string(ENTANGLE_SOURCE_DIR) +
                           "/tests/scenario/check_results.py " + merged.string() + " >/dev/null")
                              .c_str()) == 0);

    const Result missing = run("merge " + (dir / "s0.h5").string() + " " + (dir / "s2.h5").string() + " -o " +
                               (dir / "bad.h5").string());
    CHECK(missing.exit_code == 2);
    CHECK(missing.output.find("1 of 4 points are in no shard (1)") != std::string::npos);
    const Result twice = run("merge" + shards + " " + (dir / "s1.h5").string() + " -o " + (dir / "bad.h5").string());
    CHECK(twice.exit_code == 2);
    CHECK(twice.output.find("is in both") != std::string::npos);
    const Result other = run("merge " + (dir / "s0.h5").string() + " " + plain.string() + " -o " + (dir / "bad.h5").string());
    CHECK(other.exit_code == 2);
    CHECK_FALSE(fs::exists(dir / "bad.h5"));
}

TEST_CASE("cli sweep: interrupted (SIGINT) or killed (SIGKILL) sweeps resume to the same numbers") {
    const ScratchDir scratch("sweep_resume");
    const fs::path& dir = scratch.path;
    const std::string file = sweeps + "baseline_kill.yaml";
    const fs::path plain = dir / "plain.h5";
    REQUIRE(run("sweep " + file + " -o " + plain.string() + " --threads 2 --quiet").exit_code == 0);

    // SIGINT: the completed points are kept in a .partial marked incomplete, exit 130.
    const fs::path stopped = dir / "stopped.h5";
    const int status = run_and_signal("sweep " + file + " -o " + stopped.string() + " --threads 2", stopped, SIGINT);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 130);
    const fs::path partial = dir / "stopped.h5.partial";
    REQUIRE(fs::exists(partial));
    CHECK(read_attribute_uint(partial, "/", "complete") == 0);
    CHECK_FALSE(fs::exists(stopped));
    const std::vector<fs::path> journals = find_journals(stopped);
    REQUIRE(journals.size() == 1);
    const JournalScan scan = scan_journal(journals[0]);
    // A copy of the journal cut inside its last entry: what a kill during a write leaves.
    const fs::path torn = dir / "torn.h5";
    fs::copy_file(journals[0], journal_path_for(torn, 0));
    if (!scan.entries.empty()) fs::resize_file(journal_path_for(torn, 0), scan.valid_bytes - 100);

    // A different seed is a different sweep: --resume refuses it.
    const Result wrong = run("sweep " + file + " -o " + stopped.string() + " --resume --seed 12 --quiet");
    CHECK(wrong.exit_code == 2);
    CHECK(wrong.output.find("different sweep") != std::string::npos);

    REQUIRE(run("sweep " + file + " -o " + stopped.string() + " --resume --threads 1 --quiet").exit_code == 0);
    check_same_results(plain, stopped);
    CHECK(find_journals(stopped).empty());
    CHECK_FALSE(fs::exists(partial));

    REQUIRE(run("sweep " + file + " -o " + torn.string() + " --resume --quiet").exit_code == 0);
    check_same_results(plain, torn);

    // SIGKILL: nothing runs on the way out; the journal alone carries the completed points.
    const fs::path killed = dir / "killed.h5";
    const int kill_status = run_and_signal("sweep " + file + " -o " + killed.string() + " --threads 2", killed, SIGKILL);
    REQUIRE(WIFSIGNALED(kill_status));
    REQUIRE(find_journals(killed).size() == 1);
    REQUIRE(run("sweep " + file + " -o " + killed.string() + " --resume --quiet").exit_code == 0);
    check_same_results(plain, killed);
}

TEST_CASE("cli run: interrupted, it resumes to the same numbers; killed, or of another run, it is not reused") {
    const ScratchDir scratch("run_resume");
    const fs::path& dir = scratch.path;
    const std::string baseline = std::string(ENTANGLE_SOURCE_DIR) + "/scenarios/baseline.yaml";
    // A few series and no network keep the files (compared in full) small.
    const std::string settings = " --replications 1500 --set outputs.network=false"
                                 " --set 'outputs.series=[compute, revenue, spot_price, price]'";
    const std::string command = "run " + baseline + settings + " -o ";
    const fs::path plain = dir / "plain.h5";
    const Result plain_run = run(command + plain.string() + " --threads 2");
    REQUIRE(plain_run.exit_code == 0);
    // The summary table, without the line that says how long it took.
    const auto table = [](const std::string& output) {
        const std::size_t from = output.find("means over");
        return from == std::string::npos ? std::string() : output.substr(from, output.find("results:", from) - from);
    };
    REQUIRE(!table(plain_run.output).empty());
    // Signalled once the file holds some replications: it grows as they are written
    // (its layout is under 1 MB, a replication some 40 KB), whatever the machine's speed.
    const auto grown_past = [](fs::path file, std::uintmax_t bytes) {
        return [file, bytes] {
            std::error_code ec;
            const std::uintmax_t size = fs::file_size(file, ec);
            return !ec && size > bytes;
        };
    };
    const auto kept = [](const std::string& output) {
        const std::size_t at = output.find("entangle: resuming: ");
        return at == std::string::npos ? -1 : std::stoi(output.substr(at + 20));
    };

    const fs::path stopped = dir / "stopped.h5";
    const fs::path partial = partial_path_for(stopped), aside = partial.string() + ".resumed";
    const int status = spawn_and_signal(binary + " " + command + stopped.string() + " --threads 1 --quiet",
                                        grown_past(partial, 3'000'000), SIGINT);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 130);
    REQUIRE(fs::exists(partial));
    CHECK(read_attribute_uint(partial, "/", "complete") == 0);
    // A file a killed resume set aside is dropped by a run started afresh (without --resume),
    // so that a later --resume finds the run complete rather than continuing the old one.
    const fs::path afresh_out = dir / "afresh.h5";
    fs::copy_file(partial, partial_path_for(afresh_out).string() + ".resumed");
    REQUIRE(run(command + afresh_out.string() + " --threads 2 --quiet").exit_code == 0);
    CHECK_FALSE(fs::exists(partial_path_for(afresh_out).string() + ".resumed"));
    CHECK(run(command + afresh_out.string() + " --resume --quiet").output.find("is already complete") != std::string::npos);
    // Another seed is another run: refused, the partial kept.
    const Result other = run(command + stopped.string() + " --resume --seed 5 --quiet");
    CHECK(other.exit_code == 2);
    CHECK(other.output.find("holds a different run") != std::string::npos);
    REQUIRE(fs::exists(partial));

    // The resume itself killed once it has copied and run some more: the file set aside
    // still lists what was kept, and the next resume takes it.
    const int resume_killed = spawn_and_signal(binary + " " + command + stopped.string() + " --resume --threads 1",
                                               [&] { return fs::exists(aside) && grown_past(partial, fs::file_size(aside) + 1'000'000)(); },
                                               SIGKILL);
    REQUIRE(WIFSIGNALED(resume_killed));
    REQUIRE(fs::exists(aside));
    const Result resumed = run(command + stopped.string() + " --resume --threads 2");
    REQUIRE(resumed.exit_code == 0);
    CAPTURE(resumed.output);
    CHECK(kept(resumed.output) > 0);  // the file had grown past its layout: replications were kept
    CHECK(kept(resumed.output) < 1500);
    CHECK(resumed.output.find(" of 1500 replications kept from the interrupted run") != std::string::npos);
    check_same_results(plain, stopped);
    CHECK(table(resumed.output) == table(plain_run.output));
    CHECK_FALSE(fs::exists(partial));
    CHECK_FALSE(fs::exists(aside));
    // Complete: nothing to resume.
    const Result complete = run(command + stopped.string() + " --resume");
    CHECK(complete.exit_code == 2);
    CHECK(complete.output.find("is already complete") != std::string::npos);

    // SIGKILL of a run: its partial never listed what it holds (its tables may lag its chunks): run afresh.
    const fs::path killed = dir / "killed.h5";
    const int kill_status = spawn_and_signal(binary + " " + command + killed.string() + " --threads 1 --quiet",
                                             grown_past(partial_path_for(killed), 3'000'000), SIGKILL);
    REQUIRE(WIFSIGNALED(kill_status));
    const Result afresh = run(command + killed.string() + " --resume --threads 2");
    REQUIRE(afresh.exit_code == 0);
    CAPTURE(afresh.output);
    // HDF5 may or may not open a file cut off mid-write; either way it is not reused.
    CHECK((afresh.output.find("does not list the replications it holds") != std::string::npos ||
           afresh.output.find("--resume: cannot read") != std::string::npos));
    CHECK(afresh.output.find("running all 1500 replications") != std::string::npos);
    check_same_results(plain, killed);
}

TEST_CASE("cli sweep: the tables' fixed-length text columns hold every id the engine generates") {
    // Procurement on: the labs sign contracts whose ids the engine builds ("auto_<lab>_<seller>_<month>", ...).
    const ScratchDir scratch("sweep_table_text");
    const fs::path& dir = scratch.path;
    const fs::path sweep_file = dir / "procure.yaml";
    write_file(sweep_file, std::string("sweep:\n  base: ") + ENTANGLE_SOURCE_DIR +
                               "/benchmarks/baseline_with_contracts.yaml\n  design: {method: random, points: 2}\n"
                               "  replications: 2\n  seed: 3\nparameters:\n  market.lab_power: {min: 0.3, max: 0.7}\n"
                               "outputs:\n  series: [compute]\n  keep_replications: true\n");
    const fs::path out = dir / "procure.h5";
    REQUIRE(run("sweep " + sweep_file.string() + " -o " + out.string() + " --quiet").exit_code == 0);
    const SweepSpec spec = load_sweep(sweep_file);
    const TableTextBounds bounds = table_text_bounds(SweepScenarios(spec, {}).base(), spec);
    CHECK(read_table_text_bounds(out) == bounds);
    std::size_t generated = 0, longest_id = 0;
    for (const ContractTableRow& c : read_contracts(out)) {
        generated += c.row.id.rfind("auto_", 0) == 0 ? 1 : 0;
        longest_id = std::max(longest_id, c.row.id.size());
        CHECK(c.row.signed_month.size() == 7);
    }
    CHECK(generated > 0);
    CHECK(longest_id <= bounds.contract_id);
    for (const EventTableRow& e : read_events(out)) CHECK(e.row.firms.size() <= bounds.event_firms);
}

TEST_CASE("cli sweep: bad sweep input exits 2 with the place and nothing written") {
    const ScratchDir scratch("sweep_bad");
    const fs::path& dir = scratch.path;
    const fs::path bad = dir / "bad.yaml";
    write_file(bad, std::string("sweep:\n  base: ") + ENTANGLE_SOURCE_DIR +
                        "/scenarios/minimal.yaml\n  design: {method: lhs, pionts: 4}\nparameters:\n"
                        "  firms.labco.lab.training_growth: {min: 2, max: 3}\n");
    const Result result = run("sweep " + bad.string() + " -o " + (dir / "out.h5").string());
    CHECK(result.exit_code == 2);
    CHECK(result.output.find("bad.yaml:3:25: unknown key 'pionts' in sweep.design; did you mean 'points'?") !=
          std::string::npos);
    CHECK(run("validate " + bad.string()).exit_code == 2);
    CHECK(run("validate " + sweeps + "small.yaml").exit_code == 0);
    CHECK(run("sweep " + sweeps + "small.yaml --shard 3/3 -o " + (dir / "out.h5").string()).exit_code == 2);
    CHECK(run("sweep " + sweeps + "small.yaml --set firms.labco.lab.train_share=7 -o " + (dir / "out.h5").string())
              .exit_code == 2);
    // More than the machine holds (900 000 baseline replications a point, 65 points in
    // flight: some 13 TB): refused before it runs, not ended by std::bad_alloc hours in.
    const Result memory = run("sweep " + sweeps + "baseline_kill.yaml --replications 900000 --threads 64 -o " +
                              (dir / "out.h5").string());
    CHECK(memory.exit_code == 2);
    CHECK(memory.output.find("holds its 900000 replications in memory until it completes") != std::string::npos);
    CHECK_FALSE(fs::exists(dir / "out.h5.partial"));
    CHECK_FALSE(fs::exists(dir / "out.h5"));

    // A bad -o is bad usage, found before anything runs (cli::prepare_output_path, as `run`).
    const Result folder = run("sweep " + sweeps + "small.yaml -o " + dir.string());
    CHECK(folder.exit_code == 2);
    CHECK(folder.output.find("is a folder") != std::string::npos);
    std::ofstream(dir / "plain_file") << "x";
    const Result under_file = run("sweep " + sweeps + "small.yaml -o " + (dir / "plain_file" / "out.h5").string());
    CHECK(under_file.exit_code == 2);
    CHECK(under_file.output.find("cannot make the folder") != std::string::npos);
    CHECK(find_journals(dir / "plain_file" / "out.h5").empty());
    CHECK(run("merge " + (dir / "x.h5").string() + " -o " + dir.string()).exit_code == 2);
}

#ifdef ENTANGLE_MPIEXEC
TEST_CASE("cli sweep: 3 MPI ranks write the file one process writes") {
    const ScratchDir scratch("sweep_mpi");
    const fs::path& dir = scratch.path;
    const std::string mpirun = std::string(ENTANGLE_MPIEXEC) + " --allow-run-as-root --oversubscribe -n 3 ";
    for (const char* name : {"small", "keep"}) {
        const fs::path plain = dir / (std::string(name) + "_plain.h5");
        const fs::path ranks = dir / (std::string(name) + "_mpi.h5");
        REQUIRE(run("sweep " + sweeps + name + ".yaml -o " + plain.string() + " --quiet").exit_code == 0);
        const std::string command = mpirun + binary + " sweep " + sweeps + name + ".yaml -o " + ranks.string() +
                                    " --quiet 2>&1";
        REQUIRE(std::system(command.c_str()) == 0);
        check_same_results(plain, ranks);
        CHECK(find_journals(ranks).empty());
    }
}

TEST_CASE("cli sweep: under mpirun, SIGUSR1 to mpirun stops the ranks with exit 130, SIGTERM resumably") {
    const ScratchDir scratch("sweep_mpi_signal");
    const fs::path& dir = scratch.path;
    const std::string mpirun = std::string(ENTANGLE_MPIEXEC) + " --allow-run-as-root --oversubscribe -n 3 ";
    // 160 replications a point: the points after the first take seconds, past the
    // second mpirun holds SIGTERM back before forwarding it (docs/cluster.md).
    const std::string sweep = " sweep " + sweeps + "baseline_kill.yaml --replications 160 --quiet -o ";
    const fs::path plain = dir / "plain.h5";
    REQUIRE(run(sweep + plain.string() + " --threads 2").exit_code == 0);
    for (const int signal : {SIGUSR1, SIGTERM}) {
        CAPTURE(signal);
        const fs::path stopped = dir / (signal == SIGUSR1 ? "usr1.h5" : "term.h5");
        const int status = spawn_and_signal(mpirun + binary + sweep + stopped.string() + " --threads 1", stopped, signal);
        REQUIRE(WIFEXITED(status));
        REQUIRE_FALSE(fs::exists(stopped));  // stopped, not finished
        const fs::path partial = partial_path_for(stopped);
        CHECK_FALSE(find_journals(stopped).empty());
        if (signal == SIGUSR1) {
            // Forwarded at once; mpirun returns the ranks' 130 and rank 0 has written the partial.
            CHECK(WEXITSTATUS(status) == 130);
            REQUIRE(fs::exists(partial));
            CHECK(read_attribute_uint(partial, "/", "complete") == 0);
        } else if (fs::exists(partial)) {
            // mpirun returns 1 whatever the ranks do, and SIGKILLs any rank still
            // running a second after the SIGTERM: a slow rank 0 leaves only the
            // journals, which --resume reads as well.
            CHECK(read_attribute_uint(partial, "/", "complete") == 0);
        }
        REQUIRE(std::system((mpirun + binary + sweep + stopped.string() + " --threads 1 --resume >/dev/null 2>&1").c_str()) == 0);
        check_same_results(plain, stopped);
        CHECK(find_journals(stopped).empty());
        CHECK_FALSE(fs::exists(partial));
    }
}
#endif
