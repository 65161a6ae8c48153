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
        {"run " + minimal + " --resume", "--resume does not apply to `entangle run`: it is for sweep"},
        {"compare " + minimal + " " + minimal + " --resume", "--resume does not apply to `entangle compare`"},
        {"run " + minimal + " --at 2024-06", "--at does not apply to `entangle run`: it is for compare"},
        {"run " + minimal + " --independent", "--independent does not apply to `entangle run`"},
        {"validate " + minimal, "-o does not apply to `entangle validate`"},
        {"merge " + out.string() + " --set market.lab_power=0.5", "--set does not apply to `entangle merge`"},
    }};
    for (const auto& [line, message] : refused) {
        CAPTURE(line);
        const Result r = run(line + " -o " + out.string());
        CHECK(r.exit_code == 2);
        CHECK(r.output.find(message) != std::string::npos);
    }
    CHECK_FALSE(fs::exists(out));
    CHECK_FALSE(fs::exists(out.string() + ".partial"));
    // validate takes what run takes for the scenario, so a command line can be checked as it will run.
    CHECK(run("validate " + minimal + " --seed 4 --replications 3 --set market.lab_power=0.5").exit_code == 0);
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
    std::ifstream in(out);
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(content == "an older results file");
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
    const Result not_results = run("inspect " + source_dir + "/README.md");
    CHECK(not_results.exit_code == 1);
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
