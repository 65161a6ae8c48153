// The thin `entangle` command: parse arguments, wire loader, engine, agents
// and writer, map errors to exit codes (0 ok, 1 run-time failure, 2 bad input,
// 130 interrupted).
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <initializer_list>
#include <iostream>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "agents/standard_model.hpp"
#include "cli/command_support.hpp"
#include "cli/sweep_command.hpp"
#include "engine/compare.hpp"
#include "engine/errors.hpp"
#include "engine/runner.hpp"
#include "engine/scenario/loader.hpp"
#include "engine/scenario/sweep_loader.hpp"
#include "engine/simulation.hpp"
#include "engine/summary.hpp"
#include "engine/sweep_runner.hpp"
#include "output/results_reader.hpp"
#include "output/results_writer.hpp"

namespace {

using namespace entangle;
namespace fs = std::filesystem;

constexpr int exit_ok = 0, exit_failure = 1, exit_bad_input = 2, exit_interrupted = 130;

std::atomic<bool> interrupted{false};
extern "C" void on_signal(int) { interrupted.store(true); }

const char* const usage = R"(entangle: agent-based simulation of the AI compute market

usage:
  entangle run [SCENARIO.yaml] [-o OUT.h5]   run a scenario's replications (default: the bundled baseline)
  entangle validate FILE.yaml                check a scenario or sweep file and exit
  entangle inspect OUT.h5                    print what a results file holds and a summary
  entangle compare A.yaml B.yaml [-o OUT.h5] run both with common random numbers; print each headline
                                             measure for A, B and B-A with a 95% interval
  entangle sweep SWEEP.yaml [-o OUT.h5]      run a parameter sweep (default: results/<sweep name>.h5)
  entangle merge SHARD.h5... -o OUT.h5       join the shards of a sweep run with --shard

options:
  -o, --output PATH      results file (default: results/<scenario name>.h5)
  --replications N       replications, at most 1000000 (default: the scenario's)
  --seed S               master seed (default: the scenario's)
  --threads N            worker threads (default: all cores)
  --set PATH=VALUE       override a scenario key, e.g. --set firms.openai.lab.training_growth=4 (repeatable)
  --quiet                no progress or summary
  --resume               run, sweep: continue an interrupted run or sweep (same file and options), keeping
                         the replications or points it completed
  --shard I/N            sweep: run only points p with p % N == I into a shard file (docs/cluster.md)
  --at YYYY-MM           compare: a month to report (repeatable; default: December of the
                         middle year and the last month)
  --independent          compare: give B its own random streams instead of A's (shows what
                         common random numbers buy: wider intervals)
  --help, --version

exit codes: 0 ok, 1 run-time failure, 2 bad input, 130 interrupted
)";

using cli::Arguments;
using cli::BadUsage;
using cli::print_scenario_notes;

// More worker threads than any machine has cores: a typo, not a request.
constexpr long long max_threads = 4096;

long long parse_integer(const std::string& option, const std::string& text, long long min,
                        long long max = std::numeric_limits<int>::max()) {
    std::size_t used = 0;
    long long value = 0;
    try {
        value = std::stoll(text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used != text.size() || text.empty() || value < min || value > max)
        throw BadUsage(option + ": expected a whole number from " + std::to_string(min) + " to " + std::to_string(max) +
                       ", found '" + text + "'");
    return value;
}

Arguments parse_arguments(int argc, char** argv) {
    Arguments args;
    args.interrupted = &interrupted;
    std::vector<std::string> words(argv + 1, argv + argc);
    for (std::size_t i = 0; i < words.size(); ++i) {
        const std::string& word = words[i];
        const auto value = [&]() -> const std::string& {
            if (i + 1 >= words.size()) throw BadUsage(word + ": expected a value after it");
            return words[++i];
        };
        if (word == "-o" || word == "--output") args.output = value();
        else if (word == "--replications") args.replications = static_cast<int>(parse_integer(word, value(), 1, max_replications));
        else if (word == "--seed")
            args.seed = static_cast<std::uint64_t>(parse_integer(word, value(), 0, std::numeric_limits<long long>::max()));
        else if (word == "--threads") args.threads = static_cast<int>(parse_integer(word, value(), 1, max_threads));
        else if (word == "--set") args.overrides.push_back(parse_override(value()));
        else if (word == "--quiet") args.quiet = true;
        else if (word == "--resume") args.resume = true;
        else if (word == "--shard") args.shard = value();
        else if (word == "--independent") args.independent = true;
        else if (word == "--at") {
            const std::string& text = value();
            const auto month = parse_month(text);
            if (!month) throw BadUsage("--at: expected a month YYYY-MM, found '" + text + "'");
            args.at.push_back(*month);
        }
        else if (word.size() > 1 && word[0] == '-') throw BadUsage("unknown option '" + word + "' (see entangle --help)");
        else if (args.command.empty()) args.command = word;
        else args.positional.push_back(word);
    }
    return args;
}

fs::path bundled_baseline() {
    if (fs::exists("scenarios/baseline.yaml")) return "scenarios/baseline.yaml";
    return fs::path(ENTANGLE_SOURCE_DIR) / "scenarios" / "baseline.yaml";
}

bool stderr_is_terminal() { return isatty(STDERR_FILENO) == 1; }


int command_validate(const Arguments& args) {
    if (args.positional.size() != 1) throw BadUsage("validate: expected one file (entangle validate FILE.yaml)");
    if (is_sweep_file(args.positional[0])) return cli::command_validate_sweep(args);
    const Scenario sc = load_scenario(args.positional[0], args.overrides);
    check_runnable(sc);
    print_scenario_notes(sc, std::cout);
    std::cout << args.positional[0] << ": ok (scenario '" << sc.name << "', " << sc.firms.size() << " firms, "
              << sc.chips.size() << " chips, " << sc.regions.size() << " regions, " << sc.steps() << " steps, "
              << sc.uncertain.size() << " uncertain parameters)\n";
    return exit_ok;
}

// Runs the tasks into the sink with progress and Ctrl-C handling. False when
// interrupted: the sink is then finished as incomplete (the .partial is kept).
// `kept`: replications copied from an interrupted run before these tasks (run --resume).
bool run_to_file(const Arguments& args, const std::string& label, std::span<const RunTask> tasks,
                 RunOptions options, RecordSink& sink, const fs::path& out, std::size_t kept = 0) {
    const agents::StandardModel model;
    const auto started = std::chrono::steady_clock::now();
    options.cancel = args.interrupted;
    if (!args.quiet && stderr_is_terminal())
        options.progress = [&](std::size_t done, std::size_t total) {
            const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
            const double rate = done / std::max(seconds, 1e-9);
            std::fprintf(stderr, "\r%s: %zu/%zu replications, %.1f/s, ETA %.0fs   ", label.c_str(), kept + done,
                         kept + total, rate, (total - done) / std::max(rate, 1e-9));
            if (done == total) std::fputc('\n', stderr);
        };
    const RunOutcome outcome = run_tasks(tasks, model, options, &sink);
    if (!outcome.cancelled) return true;
    sink.finish(false);
    std::fprintf(stderr,
                 "\nentangle: interrupted with %zu of %zu replications done; partial results kept in %s.partial "
                 "(complete=false)%s\n",
                 kept + outcome.completed, kept + tasks.size(), out.string().c_str(),
                 args.command == "run" ? "; the same command with --resume continues it" : "");
    return false;
}

// The tables' bounded text columns stored fixed-length, as a sweep's are: each
// string of a variable-length column is an object on HDF5's global heap, half
// of what appending a replication's rows cost, and 15% of the baseline's file.
// A compare's bounds cover both scenarios.
WriterOptions run_writer_options(const Scenario& a, const Scenario* b = nullptr) {
    WriterOptions options;
    options.table_text = table_text_bounds(a, SweepSpec{});
    if (b) options.table_text = wider_table_text(options.table_text, table_text_bounds(*b, SweepSpec{}));
    return options;
}
WriterOptions run_writer_options(const Scenario& a, const Scenario& b) { return run_writer_options(a, &b); }

// What `run --resume` continues (docs/results.md): the .partial an interrupted
// run of this same scenario closed, moved aside to OUT.h5.partial.resumed while
// the new .partial is written, and removed once that one holds its records.
struct RunResume {
    fs::path source;
    std::vector<bool> written;  // [replication]
    std::size_t count = 0;
};

fs::path resumed_path_for(const fs::path& out) { return partial_path_for(out).string() + ".resumed"; }

std::optional<RunResume> find_run_to_resume(const RunLayout& layout, const fs::path& out, bool quiet) {
    const fs::path partial = partial_path_for(out), aside = resumed_path_for(out);
    const auto afresh = [&](const std::string& why) -> std::optional<RunResume> {
        if (!quiet)
            std::cerr << "entangle: --resume: " << why << "; running all " << layout.replications << " replications\n";
        return std::nullopt;
    };
    // A resume killed before its new .partial was closed leaves the older file aside.
    std::optional<std::vector<bool>> written;
    fs::path source;
    for (const fs::path& candidate : {partial, aside}) {
        if (!fs::exists(candidate)) continue;
        try {
            written = read_written_replications(candidate);
        } catch (const OutputError& e) {
            if (candidate == partial && fs::exists(aside)) continue;
            return afresh("cannot read '" + candidate.string() + "' (" + e.what() + ")");
        }
        if (written) {
            source = candidate;
            break;
        }
    }
    if (source.empty()) {
        if (fs::exists(partial))
            return afresh("'" + partial.string() +
                          "' does not list the replications it holds (a kill or a failure stopped it, not an "
                          "interrupt), so they cannot be trusted");
        if (fs::exists(out))
            throw BadUsage("--resume: '" + out.string() +
                           "' is already complete (no interrupted run next to it); run without --resume to run it "
                           "again");
        return afresh("nothing to resume for '" + out.string() + "'");
    }
    const bool same = read_root_attribute_string(source, "command") == "run" &&
                      read_root_attribute_string(source, "scenario_yaml") == layout.scenario_yaml &&
                      read_attribute_uint(source, "/", "seed") == layout.seed &&
                      written->size() == static_cast<std::size_t>(layout.replications) &&
                      read_root_attribute_string(source, "entangle_version") == ENTANGLE_VERSION;
    if (!same)
        throw BadUsage("--resume: '" + source.string() + "' holds a different run (scenario, --set, --seed, " +
                       "--replications or entangle version differ); run without --resume to start afresh");
    if (source == partial) fs::rename(partial, aside);
    RunResume resume{aside, std::move(*written), 0};
    resume.count = static_cast<std::size_t>(std::count(resume.written.begin(), resume.written.end(), true));
    return resume;
}

// Copies the resumed replications into the new file as stored (no
// decompression) and their last month into the summary. Not cut short by
// Ctrl-C: an interrupt meanwhile takes effect when the copy is done, so the new
// file closes holding everything the old one held.
void copy_resumed(const RunResume& resume, const RunLayout& layout, ResultsWriter& writer, RunSummary& summary) {
    std::vector<StoredRecordReader::ChunkedDataset> datasets;
    for (const ResultsWriter::ChunkedDataset& d : writer.chunked_datasets()) datasets.push_back({d.path, d.chunk});
    StoredRecordReader reader(resume.source, datasets, writer.times());
    std::vector<std::uint32_t> copied;
    for (std::uint32_t r = 0; r < resume.written.size(); ++r)
        if (resume.written[r]) {
            writer.write(reader.read(0, r));
            copied.push_back(r);
        }
    const std::uint64_t last = layout.times.empty() ? 0 : layout.times.size() - 1;
    const std::uint32_t through = copied.empty() ? 0 : copied.back() + 1;  // the replications to read values of
    summary.add_stored(copied, [&](std::string_view group, std::string_view series) {
        return reader.values_at("/" + std::string(group) + "/" + std::string(series), 0, last, through);
    });
}

int command_run(const Arguments& args) {
    if (args.positional.size() > 1) throw BadUsage("run: expected at most one scenario file");
    const fs::path file = args.positional.empty() ? bundled_baseline() : fs::path(args.positional[0]);
    Scenario scenario = load_scenario(file, args.overrides);
    check_runnable(scenario);
    if (!args.quiet) print_scenario_notes(scenario, std::cerr);
    if (args.replications) scenario.replications = *args.replications;
    if (args.seed) scenario.seed = *args.seed;
    const fs::path out = args.output ? fs::path(*args.output) : fs::path("results") / (scenario.name + ".h5");
    cli::prepare_output_path(out);

    // Everything about the input is checked; only now is a file created.
    const RunLayout layout = make_layout(scenario, "run", scenario.seed, scenario.replications, {scenario.name});
    const std::optional<RunResume> resume =
        args.resume ? find_run_to_resume(layout, out, args.quiet) : std::nullopt;
    // Without --resume the run starts afresh: a file a killed resume set aside is not wanted any more
    // (left, a later --resume would take it for the run to continue).
    if (!args.resume) fs::remove(resumed_path_for(out));
    ResultsWriter writer(out, layout, run_writer_options(scenario));
    RunSummary summary(layout, &writer);
    auto tasks = replication_tasks(scenario, 0, scenario.replications);
    const auto started = std::chrono::steady_clock::now();
    std::size_t kept = 0;
    if (resume) {
        if (!args.quiet)
            std::cerr << "entangle: resuming: " << resume->count << " of " << scenario.replications
                      << " replications kept from the interrupted run\n";
        copy_resumed(*resume, layout, writer, summary);
        std::erase_if(tasks, [&](const RunTask& t) { return resume->written[t.replication]; });
        kept = resume->count;
    }
    RunOptions options;
    options.threads = args.threads;
    options.seed = scenario.seed;
    const bool finished = run_to_file(args, "run " + scenario.name, tasks, options, summary, out, kept);
    if (finished) summary.finish(true);
    // Only now that the new file is closed (complete, or listing all it holds) is the old one not needed.
    if (resume) fs::remove(resume->source);
    if (!finished) return exit_interrupted;
    if (!args.quiet) {
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        std::cout << "scenario '" << scenario.name << "': " << scenario.replications << " replications of "
                  << scenario.steps() << (scenario.months_per_step == 3 ? " quarters" : " months") << " in " << seconds
                  << " s\n"
                  << summary.table() << "results: " << out.string() << "\n";
    }
    return exit_ok;
}

// A and B must lay out the same results: same firms, chips, regions and months.
void check_comparable(const Scenario& a, const Scenario& b) {
    const auto names = [](const auto& items) {
        std::vector<std::string> out;
        for (const auto& item : items) out.push_back(item.name);
        return out;
    };
    std::string problem;
    if (names(a.firms) != names(b.firms)) problem = "they have different firms";
    else if (names(a.chips) != names(b.chips)) problem = "they have different chip families";
    else if (names(a.regions) != names(b.regions)) problem = "they have different regions";
    else if (a.start != b.start || a.end != b.end || a.months_per_step != b.months_per_step ||
             a.outputs.every != b.outputs.every)
        problem = "they run over different months (start, end, step or outputs.every)";
    else if (a.outputs.network != b.outputs.network) problem = "one records the network matrices and the other not";
    if (!problem.empty())
        throw ModelInputError("compare: '" + a.source_path + "' and '" + b.source_path + "' cannot be paired: " +
                              problem + " (a what-if should extend the scenario it is compared with)");
}

int command_compare(const Arguments& args) {
    if (args.positional.size() != 2)
        throw BadUsage("compare: expected two scenario files (entangle compare A.yaml B.yaml)");
    Scenario a = load_scenario(args.positional[0], args.overrides);
    Scenario b = load_scenario(args.positional[1], args.overrides);
    check_runnable(a);
    check_runnable(b);
    if (!args.quiet) {
        print_scenario_notes(a, std::cerr);
        print_scenario_notes(b, std::cerr);
    }
    check_comparable(a, b);
    // Common random numbers: both run A's seed and replication count unless told otherwise.
    const int replications = args.replications.value_or(a.replications);
    const std::uint64_t seed = args.seed.value_or(a.seed);
    if (replications < 2) throw BadUsage("compare: needs at least 2 replications for an interval");
    a.replications = b.replications = replications;
    a.seed = b.seed = seed;
    const fs::path out =
        args.output ? fs::path(*args.output) : fs::path("results") / ("compare_" + a.name + "_" + b.name + ".h5");
    RunLayout layout = make_layout(a, "compare", seed, replications, {"A", "B"});
    const std::vector<int> times = comparison_times(layout, args.at);
    layout.drawn_param_names = compared_parameters(a, b);
    layout.extra_attributes = {{"scenario_yaml_b", b.resolved_yaml},
                               {"point_scenarios", a.name + "," + b.name},
                               {"random_numbers", args.independent ? "independent" : "common"}};
    cli::prepare_output_path(out);

    ResultsWriter writer(out, layout, run_writer_options(a, b));
    ComparisonSink comparison(a, b, headline_measures(a, layout, times), replications, &writer);
    const std::vector<RunTask> tasks = comparison_tasks(a, b, replications);
    RunOptions options;
    options.threads = args.threads;
    options.seed = seed;
    if (!args.independent) options.common_stream_point = 0;
    if (!run_to_file(args, "compare " + a.name + " vs " + b.name, tasks, options, comparison, out))
        return exit_interrupted;
    comparison.finish(true);
    if (!args.quiet)
        std::cout << "compare: A = '" << a.name << "' (" << a.source_path << "), B = '" << b.name << "' ("
                  << b.source_path << "), " << replications << " replications each, "
                  << (args.independent ? "independent" : "common") << " random numbers, seed " << seed << "\n"
                  << comparison.table() << "results: " << out.string() << "\n";
    return exit_ok;
}

int command_inspect(const Arguments& args) {
    if (args.positional.size() != 1) throw BadUsage("inspect: expected one results file (entangle inspect OUT.h5)");
    std::cout << describe_results(args.positional[0]);
    return exit_ok;
}

// An option given to a command it does not apply to is refused, not ignored:
// `entangle run --shard 0/4` run whole, or `run --resume` rerunning from the
// start, would do something else than asked without a word.
void check_options_apply(const Arguments& args) {
    struct Use {
        const char* option;
        bool given;
        std::initializer_list<std::string_view> commands;
    };
    const Use uses[] = {
        {"-o", args.output.has_value(), {"run", "compare", "sweep", "merge"}},
        {"--replications", args.replications.has_value(), {"run", "compare", "sweep", "validate"}},
        {"--seed", args.seed.has_value(), {"run", "compare", "sweep", "validate"}},
        {"--set", !args.overrides.empty(), {"run", "compare", "sweep", "validate"}},
        {"--resume", args.resume, {"run", "sweep"}},
        {"--shard", args.shard.has_value(), {"sweep"}},
        {"--threads", args.threads != 0, {"run", "compare", "sweep"}},
        {"--at", !args.at.empty(), {"compare"}},
        {"--independent", args.independent, {"compare"}},
    };
    for (const Use& use : uses) {
        if (!use.given || std::find(use.commands.begin(), use.commands.end(), args.command) != use.commands.end())
            continue;
        std::string commands;
        for (const std::string_view c : use.commands)
            commands += std::string(commands.empty() ? "" : ", ") + std::string(c);
        throw BadUsage(std::string(use.option) + " does not apply to `entangle " + args.command + "`: it is for " +
                       commands);
    }
}

int dispatch(const Arguments& args, int argc, char** argv) {
    static constexpr std::string_view commands[] = {"run", "compare", "sweep", "merge", "validate", "inspect"};
    if (std::find(std::begin(commands), std::end(commands), args.command) != std::end(commands))
        check_options_apply(args);
    if (args.command == "sweep") return cli::command_sweep(args, argc, argv);
    if (args.command == "merge") return cli::command_merge(args);
    if (args.command == "run") return command_run(args);
    if (args.command == "validate") return command_validate(args);
    if (args.command == "inspect") return command_inspect(args);
    if (args.command == "compare") return command_compare(args);
    if (args.command.empty())
        throw BadUsage("expected a command: run, compare, sweep, merge, validate or inspect (see entangle --help)");
    throw BadUsage("unknown command '" + args.command + "'; expected run, compare, sweep, merge, validate or inspect");
}

}  // namespace

int main(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        const std::string word = argv[i];
        if (word == "--help" || word == "-h") return std::cout << usage, exit_ok;
        if (word == "--version") return std::cout << "entangle " << ENTANGLE_VERSION << "\n", exit_ok;
    }
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    // Open MPI's mpirun turns a SIGINT or SIGTERM it receives into exit 1
    // whatever the ranks return, but forwards SIGUSR1 to them untouched: so
    // `kill -USR1 <mpirun>` stops a sweep under mpirun with exit 130 (docs/cluster.md).
    std::signal(SIGUSR1, on_signal);
    try {
        return dispatch(parse_arguments(argc, argv), argc, argv);
    } catch (const InputError& e) {
        for (const InputProblem& p : e.problems()) std::cerr << p.format() << "\n";
        std::cerr << "entangle: " << e.problems().size() << " problem(s) found; nothing was run\n";
        return exit_bad_input;
    } catch (const ModelInputError& e) {
        std::cerr << e.what() << "\nentangle: nothing was run\n";
        return exit_bad_input;
    } catch (const BadUsage& e) {
        std::cerr << "entangle: " << e.what() << "\n";
        return exit_bad_input;
    } catch (const NotResultsFile& e) {  // inspect or merge given a file that is not a results file
        std::cerr << "entangle: " << e.what() << "\n";
        return exit_bad_input;
    } catch (const InvariantViolation& e) {
        std::cerr << "entangle: " << e.what() << "\n";
        return exit_failure;
    } catch (const std::exception& e) {
        std::cerr << "entangle: " << e.what() << "\n";
        return exit_failure;
    }
}
