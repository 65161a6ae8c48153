// The `entangle` command as a user meets it: exit codes, messages, and that bad
// input never creates or damages a results file.
#include <doctest/doctest.h>

#include "tests/cli_support.hpp"

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace fs = std::filesystem;

namespace {

const std::string binary = ENTANGLE_BINARY;
const std::string source_dir = ENTANGLE_SOURCE_DIR;

using Result = entangle::testing::CommandResult;
using entangle::testing::write_file;
using entangle::testing::ScratchDir;
inline Result run(const std::string& arguments) { return entangle::testing::run_entangle(arguments); }

}  // namespace

TEST_CASE("cli: --help and --version") {
    const Result help = run("--help");
    CHECK(help.exit_code == 0);
    CHECK(help.output.find("entangle run") != std::string::npos);
    const Result version = run("--version");
    CHECK(version.exit_code == 0);
    CHECK(version.output.find("entangle ") == 0);
}

TEST_CASE("cli: bad usage exits 2 with a message") {
    CHECK(run("frobnicate").exit_code == 2);
    const Result bad_option = run("run --replications zero");
    CHECK(bad_option.exit_code == 2);
    CHECK(bad_option.output.find("--replications: expected a whole number") != std::string::npos);
    CHECK(run("run --bogus").exit_code == 2);
    // Too large for the option: refused, not wrapped round to another number.
    const Result huge = run("run --replications 100000000000");
    CHECK(huge.exit_code == 2);
    CHECK(huge.output.find("--replications: expected a whole number from 1 to 1000000, found '100000000000'") !=
          std::string::npos);
    // More than a results file can hold (2147483647 ended in std::bad_alloc, exit 1).
    const Result too_many = run("run --replications 2147483647");
    CHECK(too_many.exit_code == 2);
    CHECK(too_many.output.find("--replications: expected a whole number from 1 to 1000000, found '2147483647'") !=
          std::string::npos);
    const Result threads = run("run --threads 99999999999");
    CHECK(threads.exit_code == 2);
    CHECK(threads.output.find("--threads: expected a whole number from 1 to 4096") != std::string::npos);
}

TEST_CASE("cli: an option a command does not use is refused before anything runs, not ignored") {
    const ScratchDir scratch("cli_options");
    const fs::path out = scratch.path / "out.h5";
    const std::string minimal = source_dir + "/scenarios/minimal.yaml";
    // {command line, what the message must say}: each would otherwise do something else than asked.
    const std::array<std::array<std::string, 2>, 7> refused = {{
        {"run " + minimal + " --shard 0/2", "--shard does not apply to `entangle run`: it is for sweep"},
        {"sweep " + std::string(ENTANGLE_TEST_DATA_DIR) + "/sweep/small.yaml --at 2024-06",
         "--at does not apply to `entangle sweep`: it is for compare"},
        {"compare " + minimal + " " + minimal + " --resume", "--resume does not apply to `entangle compare`: it is for run, sweep"},
        {"run " + minimal + " --at 2024-06", "--at does not apply to `entangle run`: it is for compare"},
        {"run " + minimal + " --independent", "--independent does not apply to `entangle run`"},
        {"validate " + minimal, "-o does not apply to `entangle validate`"},
        {"merge " + out.string() + " --set market.lab_power=0.5", "--set does not apply to `entangle merge`"},
    }};
    for (const auto& [line, message] : refused) {
        CAPTURE(line);
        // -o is for every command here but validate, whose refusal is for -o itself.
        const Result r = run(line + " -o " + out.string());
        CHECK(r.exit_code == 2);
        CHECK(r.output.find(message) != std::string::npos);
    }
    CHECK_FALSE(fs::exists(out));
    CHECK_FALSE(fs::exists(out.string() + ".partial"));
    // validate takes what run takes for the scenario, so a command line can be checked as it will run.
    CHECK(run("validate " + minimal + " --seed 4 --replications 3 --set market.lab_power=0.5").exit_code == 0);
    const Result threads = run("inspect " + out.string() + " --threads 4");
    CHECK(threads.exit_code == 2);
    CHECK(threads.output.find("--threads does not apply to `entangle inspect`: it is for run, compare, sweep") !=
          std::string::npos);
}

TEST_CASE("cli: an event after the end, or a contract over before the start, is noted, not silently dropped") {
    const ScratchDir scratch("cli_notes");
    const fs::path scenario = scratch.path / "noted.yaml";
    write_file(scenario, entangle::testing::read_file(source_dir + "/scenarios/minimal.yaml") +
                             "events:\n  - {id: typo, at: 2099-07, do: forbid, firms: [labco, cloudco]}\n"
                             "contracts:\n  - {id: bygone, kind: capacity, seller: cloudco, buyer: labco, start: 2020-01,"
                             " end: 2021-12, quantity_h100e: 10, price_usd_per_h100e_hour: 2}\n");
    const Result validated = run("validate " + scenario.string());
    CHECK(validated.exit_code == 0);
    CHECK(validated.output.find("note: " + scenario.string() +
                                ": event 'typo' (2099-07) is after the end (2025-12): it never happens") !=
          std::string::npos);
    CHECK(validated.output.find("contract 'bygone' ends (2021-12) before the start (2024-01): it is never in force") !=
          std::string::npos);
    const Result ran = run("run " + scenario.string() + " -o " + (scratch.path / "out.h5").string());
    CHECK(ran.exit_code == 0);
    CHECK(ran.output.find("note: ") != std::string::npos);
    CHECK(run("run " + scenario.string() + " --quiet -o " + (scratch.path / "out.h5").string()).output.empty());
    // The bundled scenarios state nothing their runs never see.
    CHECK(run("validate " + source_dir + "/scenarios/baseline.yaml").output.find("note:") == std::string::npos);
}

TEST_CASE("cli: a bad scenario exits 2, reports file:line:col, and creates no results file") {
    const ScratchDir scratch("cli_bad");
    const fs::path& dir = scratch.path;
    const fs::path scenario = dir / "bad.yaml";
    write_file(scenario, std::string("scenario: {name: bad, start: 2024-01, end: 2024-12}\n") +
                             "firms:\n  labco:\n    lab: {cash: lots}\n");
    const fs::path out = dir / "out.h5";
    const Result r = run("run " + scenario.string() + " -o " + out.string());
    CHECK(r.exit_code == 2);
    CHECK(r.output.find(scenario.string() + ":4:") != std::string::npos);
    CHECK_FALSE(fs::exists(out));
    CHECK_FALSE(fs::exists(out.string() + ".partial"));
}

TEST_CASE("cli: replications past a million in a file exit 2 at their place, before any file is made") {
    const ScratchDir scratch("cli_replications");
    const fs::path scenario = scratch.path / "many.yaml";
    write_file(scenario, "scenario: {name: many, start: 2024-01, end: 2024-12, replications: 2147483647}\n"
                         "firms: {labco: {lab: {}}}\n");
    const fs::path out = scratch.path / "out.h5";
    const Result r = run("run " + scenario.string() + " -o " + out.string());
    CHECK(r.exit_code == 2);
    CHECK(r.output.find(scenario.string() +
                        ":1:68: scenario.replications: 2147483647 is out of range; expected a value in [1, 1000000]") !=
          std::string::npos);
    CHECK_FALSE(fs::exists(out));
    CHECK_FALSE(fs::exists(out.string() + ".partial"));
}

TEST_CASE("cli: a failed run never touches an existing results file") {
    const ScratchDir scratch("cli_keep");
    const fs::path& dir = scratch.path;
    const fs::path out = dir / "old.h5";
    write_file(out, "an older results file");
    const Result r = run("run " + source_dir + "/scenarios/minimal.yaml -o " + out.string() +
                         " --set firms.nobody.lab.cash=1");
    CHECK(r.exit_code == 2);
    CHECK(entangle::testing::read_file(out) == "an older results file");
}

TEST_CASE("cli: an output path that is a folder, or under a file, is refused before anything runs") {
    const ScratchDir scratch("cli_out_folder");
    const fs::path& dir = scratch.path;
    const std::string minimal = source_dir + "/scenarios/minimal.yaml";
    const Result folder = run("run " + minimal + " -o " + dir.string());
    CHECK(folder.exit_code == 2);
    CHECK(folder.output.find("is a folder; give the results file's name") != std::string::npos);
    CHECK_FALSE(fs::exists(dir.string() + ".partial"));
    write_file(dir / "plain", "a file, not a folder");
    const Result under_file = run("compare " + minimal + " " + minimal + " -o " + (dir / "plain" / "c.h5").string());
    CHECK(under_file.exit_code == 2);
    CHECK(under_file.output.find("cannot make the folder") != std::string::npos);
}

TEST_CASE("cli: -o naming an input, a file that is not a results file, a device or nothing is refused, the file untouched") {
    const ScratchDir scratch("cli_out_inputs");
    const fs::path& dir = scratch.path;
    const std::string minimal_text = entangle::testing::read_file(source_dir + "/scenarios/minimal.yaml");
    const fs::path scenario = dir / "mine.yaml", notes = dir / "notes.txt";
    write_file(scenario, minimal_text);
    write_file(notes, "my notes\n");
    const std::array<std::string, 4> refused = {
        "run " + scenario.string() + " -o " + scenario.string(),  // the scenario being run
        "compare " + scenario.string() + " " + scenario.string() + " -o " + notes.string(),
        "sweep " + std::string(ENTANGLE_TEST_DATA_DIR) + "/sweep/small.yaml -o " + notes.string(),
        "run " + scenario.string() + " -o /dev/null",
    };
    for (const std::string& line : refused) {
        CAPTURE(line);
        const Result r = run(line + " --quiet");
        CHECK(r.exit_code == 2);
        CHECK((r.output.find("exists and does not open as an entangle results file") != std::string::npos ||
               r.output.find("exists and is not a regular file") != std::string::npos));
    }
    CHECK(entangle::testing::read_file(scenario) == minimal_text);
    CHECK(entangle::testing::read_file(notes) == "my notes\n");
    CHECK(fs::is_character_file("/dev/null"));
    CHECK_FALSE(fs::exists(dir / "mine.yaml.partial"));
    const Result nothing = run("run " + scenario.string() + " -o ''");
    CHECK(nothing.exit_code == 2);
    CHECK(nothing.output.find("-o: expected the results file's name, found ''") != std::string::npos);
    CHECK_FALSE(fs::exists(fs::current_path() / ".partial"));
    // An empty file (mktemp's) and an older results file are what -o may replace.
    write_file(dir / "empty.h5", "");
    CHECK(run("run " + scenario.string() + " -o " + (dir / "empty.h5").string() + " --quiet").exit_code == 0);
    CHECK(run("run " + scenario.string() + " -o " + (dir / "empty.h5").string() + " --quiet").exit_code == 0);
    // HDF5, but not a results file entangle can open (here one cut in half): not replaced either.
    const fs::path cut = dir / "cut.h5";
    fs::copy_file(dir / "empty.h5", cut);
    fs::resize_file(cut, fs::file_size(cut) / 2);
    const std::string cut_bytes = entangle::testing::read_file(cut);
    const Result over_cut = run("run " + scenario.string() + " -o " + cut.string() + " --quiet");
    CHECK(over_cut.exit_code == 2);
    CHECK(over_cut.output.find("exists and does not open as an entangle results file") != std::string::npos);
    CHECK(entangle::testing::read_file(cut) == cut_bytes);
}

TEST_CASE("cli: validate accepts the bundled files and rejects a missing one") {
    CHECK(run("validate " + source_dir + "/scenarios/baseline.yaml").exit_code == 0);
    CHECK(run("validate " + source_dir + "/scenarios/minimal.yaml").exit_code == 0);
    const Result missing = run("validate /nonexistent/scenario.yaml");
    CHECK(missing.exit_code == 2);
    CHECK(missing.output.find("/nonexistent/scenario.yaml") != std::string::npos);
}

TEST_CASE("cli: run writes a results file that inspect reads and xarray opens") {
    const ScratchDir scratch("cli_run");
    const fs::path& dir = scratch.path;
    const fs::path out = dir / "minimal.h5";
    const Result r = run("run " + source_dir + "/scenarios/minimal.yaml -o " + out.string() +
                         " --replications 6 --threads 2 --seed 3");
    CHECK(r.exit_code == 0);
    CHECK(r.output.find(out.string()) != std::string::npos);
    REQUIRE(fs::exists(out));
    CHECK_FALSE(fs::exists(out.string() + ".partial"));
    const Result inspect = run("inspect " + out.string());
    CHECK(inspect.exit_code == 0);
    CHECK(inspect.output.find("firm") != std::string::npos);
    // A file that is not a results file is bad input (exit 2), like a bad scenario.
    const Result not_results = run("inspect " + source_dir + "/README.md");
    CHECK(not_results.exit_code == 2);
    CHECK(not_results.output.find("is not an entangle results file (not an HDF5 file)") != std::string::npos);
    CHECK(run("inspect " + (out.parent_path() / "missing.h5").string()).exit_code == 2);
    const fs::path cut = out.parent_path() / "cut.h5";  // what a copy stopped half-way leaves
    fs::copy_file(out, cut);
    fs::resize_file(cut, fs::file_size(out) / 2);
    const Result truncated = run("inspect " + cut.string());
    CHECK(truncated.exit_code == 2);
    CHECK(truncated.output.find("cannot open results file") != std::string::npos);
    // The notebook path: every group opens in xarray with named, valued coordinates.
    if (std::system("/usr/bin/python3 -c 'import xarray, h5netcdf' >/dev/null 2>&1") != 0) {
        MESSAGE("skipping the xarray check: /usr/bin/python3 lacks xarray or h5netcdf");
        return;
    }
    const std::string check = "/usr/bin/python3 " + source_dir + "/tests/scenario/check_results.py " + out.string();
    CHECK(std::system(check.c_str()) == 0);
}

TEST_CASE("cli: the same seed gives byte-identical data and tables on 1 and 2 threads") {
    // The baseline: it has contracts, events and uncertain parameters in every replication.
    const ScratchDir scratch("cli_threads");
    const fs::path& dir = scratch.path;
    const fs::path a = dir / "a.h5", b = dir / "b.h5";
    CHECK(run("run " + source_dir + "/scenarios/baseline.yaml -o " + a.string() + " --replications 6 --threads 1 --quiet")
              .exit_code == 0);
    CHECK(run("run " + source_dir + "/scenarios/baseline.yaml -o " + b.string() + " --replications 6 --threads 2 --quiet")
              .exit_code == 0);
    if (std::system("/usr/bin/python3 -c 'import h5py' >/dev/null 2>&1") != 0) return;
    const std::string compare = "/usr/bin/python3 -c \"import h5py,numpy as np,sys\n"
                                "fa,fb=h5py.File(sys.argv[1]),h5py.File(sys.argv[2])\n"
                                "for g in ['firm','market','chip','network','params','tables']:\n"
                                "  for k in fa[g]:\n"
                                "    x,y=fa[g][k][()],fb[g][k][()]\n"
                                "    textual = x.dtype.kind=='O' or (x.dtype.names and any(x.dtype[n].kind=='O' for n in x.dtype.names))\n"
                                "    same = x.tolist()==y.tolist() if textual else x.tobytes()==y.tobytes()\n"
                                "    assert same, (g,k)\n\" " +
                                a.string() + " " + b.string();
    CHECK(std::system(compare.c_str()) == 0);
}

TEST_CASE("cli: compare prints A, B, B-A with intervals and writes points A and B") {
    const ScratchDir scratch("cli_compare");
    const fs::path& dir = scratch.path;
    write_file(dir / "b.yaml", "scenario: {name: whatif, extends: " + source_dir +
                                   "/scenarios/minimal.yaml}\nmarket: {end_market_growth: 2.0}\n");
    const fs::path out = dir / "cmp.h5";
    const Result r = run("compare " + source_dir + "/scenarios/minimal.yaml " + (dir / "b.yaml").string() +
                         " --replications 6 --at 2025-06 -o " + out.string());
    CHECK(r.exit_code == 0);
    CHECK(r.output.find("common random numbers") != std::string::npos);
    CHECK(r.output.find("95% interval of B-A") != std::string::npos);
    CHECK(r.output.find("spot_price                    2025-06") != std::string::npos);
    REQUIRE(fs::exists(out));
    const Result inspected = run("inspect " + out.string());
    CHECK(inspected.exit_code == 0);
    CHECK(inspected.output.find("point") != std::string::npos);
}

TEST_CASE("cli: compare refuses scenarios that cannot be paired, and bad months, creating no file") {
    const ScratchDir scratch("cli_compare_bad");
    const fs::path& dir = scratch.path;
    const fs::path out = dir / "cmp.h5";
    const Result unpaired = run("compare " + source_dir + "/scenarios/minimal.yaml " + source_dir +
                                "/scenarios/baseline.yaml -o " + out.string());
    CHECK(unpaired.exit_code == 2);
    CHECK(unpaired.output.find("cannot be paired: they have different firms") != std::string::npos);
    const Result bad_month = run("compare " + source_dir + "/scenarios/minimal.yaml " + source_dir +
                                 "/scenarios/minimal.yaml --at 2031-01 -o " + out.string());
    CHECK(bad_month.exit_code == 2);
    CHECK(bad_month.output.find("--at 2031-01: not a recorded month of the run (2024-01 to 2025-12)") !=
          std::string::npos);
    CHECK(run("compare " + source_dir + "/scenarios/minimal.yaml").exit_code == 2);
    CHECK_FALSE(fs::exists(out));
    CHECK_FALSE(fs::exists(out.string() + ".partial"));
}
