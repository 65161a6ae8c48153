#include "cli/sweep_command.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "agents/standard_model.hpp"
#include "cli/command_support.hpp"
#include "engine/runner.hpp"
#include "engine/scenario/sweep_loader.hpp"
#include "engine/simulation.hpp"
#include "engine/sink.hpp"
#include "engine/sweep_runner.hpp"
#include "output/results_merge.hpp"
#include "output/results_writer.hpp"
#include "output/sweep_journal.hpp"
#include "output/sweep_output.hpp"
#ifdef ENTANGLE_HAVE_MPI
#include "engine/mpi/mpi_points.hpp"
#endif

namespace entangle::cli {

namespace fs = std::filesystem;

namespace {

constexpr int exit_ok = 0, exit_interrupted = 130;

struct Shard {
    std::uint32_t index = 0, count = 1;
};

Shard parse_shard(const std::optional<std::string>& text) {
    if (!text) return {};
    const std::size_t slash = text->find('/');
    const auto whole = [&](const std::string& s) -> long long {
        if (s.empty() || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }) || s.size() > 9)
            return -1;
        return std::stoll(s);
    };
    const long long i = slash == std::string::npos ? -1 : whole(text->substr(0, slash));
    const long long n = slash == std::string::npos ? -1 : whole(text->substr(slash + 1));
    if (i < 0 || n < 1 || i >= n)
        throw BadUsage("--shard: expected I/N with 0 <= I < N (e.g. --shard 3/16), found '" + *text + "'");
    return Shard{static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(n)};
}

// A shard holding none of the sweep's points (a job array with more tasks than
// the sweep has points): nothing to do, which is not an error (exit 0), so the
// array's other tasks and a merge after them are not held up.
struct EmptyShard {
    std::string message;
};

// Everything about a sweep decided before anything runs: the same on every process.
struct SweepPlan {
    SweepSpec spec;
    std::optional<SweepScenarios> scenarios;
    std::shared_ptr<const SweepDesign> design;  // shared with the writer's described points
    std::uint64_t seed = 0;
    int replications = 0;
    Shard shard;
    PointRange file_points;  // the sweep's points the output file holds, ascending
    RunLayout layout;
    std::string identity;  // what must match for --resume
    fs::path out;
    std::vector<Statistic> statistics;
    SeriesSelection series;
    WriterOptions writer;  // the tables' fixed-length text columns
};

// A point's replications are held until the point completes, threads + 1 points
// at most (docs/sweeps.md, "Memory and speed"): a sweep that cannot fit in this
// machine's memory is refused before it runs, not stopped by std::bad_alloc
// hours in. Each record holds every series (the selection applies when written),
// its tables (an allowance) and the network; kept replications are held
// compressed, a quarter of that or less.
void check_sweep_memory(const SweepPlan& plan, const Scenario& first, int threads) {
    // An allowance for the table rows: a baseline replication has some 90 contract and 150
    // event rows, about 50 KB with their strings.
    constexpr double table_rows_bytes = 64.0 * 1024;
    double record_bytes = static_cast<double>(ReplicationRecord::array_bytes(record_shape(first))) + table_rows_bytes;
    if (plan.spec.keep_replications) record_bytes /= 4;
    const double in_flight = std::min<double>(threads + 1, static_cast<double>(plan.file_points.size()));
    const double held = record_bytes * plan.replications * in_flight;
    const double physical = static_cast<double>(sysconf(_SC_PHYS_PAGES)) * static_cast<double>(sysconf(_SC_PAGE_SIZE));
    if (physical > 0 && held > physical) {
        char text[400];
        std::snprintf(text, sizeof text,
                      "a sweep point holds its %d replications in memory until it completes, %.0f points at a time "
                      "(at most --threads %d + 1): about %.1f GB, more than this machine's %.1f GB; use fewer "
                      "replications per point or fewer threads",
                      plan.replications, in_flight, threads, held / 1e9, physical / 1e9);
        throw BadUsage(text);
    }
}

template <std::size_t N, typename E>
std::vector<E> select(const std::array<SeriesInfo, N>& info, const std::vector<std::string>& names) {
    std::vector<E> out;
    for (const std::string& name : names)
        for (std::size_t i = 0; i < N; ++i)
            if (info[i].name == name) out.push_back(static_cast<E>(i));
    return out;
}

SweepPlan prepare(const Arguments& args) {
    if (args.positional.size() != 1) throw BadUsage("sweep: expected one sweep file (entangle sweep SWEEP.yaml)");
    SweepPlan plan;
    plan.spec = load_sweep(args.positional[0]);
    plan.scenarios.emplace(plan.spec, args.overrides);
    const Scenario& base = plan.scenarios->base();
    plan.seed = args.seed ? *args.seed : plan.spec.seed ? *plan.spec.seed : base.seed;
    plan.replications = args.replications ? *args.replications
                                          : plan.spec.replications > 0 ? plan.spec.replications : base.replications;
    plan.design = std::make_shared<const SweepDesign>(plan.spec, plan.seed);
    plan.writer.table_text = table_text_bounds(base, plan.spec);
    plan.scenarios->check(*plan.design);
    plan.shard = parse_shard(args.shard);
    plan.file_points = PointRange::shard(plan.design->points(), plan.shard.index, plan.shard.count);
    if (plan.file_points.size() == 0)
        throw EmptyShard{"shard " + *args.shard + ": the sweep has only " + std::to_string(plan.design->points()) +
                         " points, none of them in this shard; nothing to run, no file written\n"};
    const Scenario first = plan.scenarios->at(*plan.design, plan.file_points.at(0));
    check_runnable(first);

    // The points' labels and swept values are not listed: the writer computes
    // them from the design (WriterOptions::described_points), so nothing is held per point.
    plan.layout = make_layout(first, "sweep", plan.seed, plan.replications, {});
    plan.writer.described_points = WriterOptions::DescribedPoints{
        plan.file_points, [design = plan.design](std::uint32_t p, std::size_t j) { return design->value(p, j); }};
    plan.layout.scenario_yaml = base.resolved_yaml;
    plan.layout.sweep_yaml = plan.spec.sweep_yaml;
    if (!plan.spec.keep_replications) {
        plan.layout.statistics = plan.spec.statistics;
        for (const std::string& name : plan.spec.statistics) plan.statistics.push_back(*parse_statistic(name));
    }
    for (std::size_t j = 0; j < plan.design->parameters(); ++j) {
        const SweepParameter& sp = plan.design->parameter(j);
        RunLayout::SweptParam swept;
        swept.key_path = sp.path;
        if (sp.kind == SweepParameter::Kind::values && sp.type == SweepParameter::Type::boolean)
            swept.type = RunLayout::SweptParam::Type::boolean;
        if (sp.kind == SweepParameter::Kind::values && sp.type == SweepParameter::Type::text) {
            swept.type = RunLayout::SweptParam::Type::text;
            swept.labels = sp.values;
        }
        plan.layout.swept_params.push_back(std::move(swept));
    }
    plan.series.firm = select<firm_series_info.size(), FirmSeries>(firm_series_info, plan.layout.firm_series);
    plan.series.market = select<market_series_info.size(), MarketSeries>(market_series_info, plan.layout.market_series);
    plan.series.chip = select<chip_series_info.size(), ChipSeries>(chip_series_info, plan.layout.chip_series);

    check_sweep_memory(plan, first, args.threads > 0 ? args.threads : default_thread_count());

    const std::string name = plan.spec.name;
    plan.out = args.output ? fs::path(*args.output)
                           : fs::path("results") / (plan.shard.count > 1 ? name + ".shard-" + std::to_string(plan.shard.index) +
                                                                               "-of-" + std::to_string(plan.shard.count) + ".h5"
                                                                         : name + ".h5");
    // What shards of one sweep share (merge checks it), and with the shard what a resume must match.
    std::string sweep_identity = "entangle " ENTANGLE_VERSION " sweep\nseed: " + std::to_string(plan.seed) +
                                 "\nreplications: " + std::to_string(plan.replications) + "\n";
    for (const Override& o : args.overrides) sweep_identity += "--set " + o.path + "=" + o.value + "\n";
    sweep_identity += "--- sweep file\n" + plan.spec.sweep_yaml + "--- base scenario\n" + base.resolved_yaml;
    const std::string shard_text = std::to_string(plan.shard.index) + "/" + std::to_string(plan.shard.count);
    plan.identity = "shard: " + shard_text + "\n" + sweep_identity;
    plan.layout.extra_attributes = {{"sweep_identity", sweep_identity},
                              {"sweep_points", std::to_string(plan.design->points())},
                              {"replications", std::to_string(plan.replications)}};
    if (plan.shard.count > 1) plan.layout.extra_attributes.emplace_back("shard", shard_text);
    return plan;
}


// The points a resume finds journaled: one bit per point of the file (by
// position in plan.file_points), empty when there is nothing to resume.
struct DonePoints {
    std::vector<bool> done;
    std::size_t count = 0;
    void mark(std::size_t position) {
        if (done.empty()) return;
        if (!done[position]) ++count;
        done[position] = true;
    }
};

// The points already journaled (checking that the journals belong to this
// sweep and cutting off a torn last entry), or an error for --resume.
DonePoints resume_points(const SweepPlan& plan, bool resume) {
    DonePoints done;
    const std::vector<fs::path> journals = find_journals(plan.out);
    if (!resume) {
        for (const fs::path& j : journals) fs::remove(j);
        return done;
    }
    if (journals.empty()) {
        std::error_code ec;
        if (fs::exists(plan.out, ec))
            throw BadUsage("--resume: '" + plan.out.string() + "' is already complete (no journal of an unfinished sweep next to it)");
        return done;  // nothing to resume: start afresh
    }
    for (const fs::path& j : journals) {
        JournalScan scan = scan_journal(j);
        if (scan.identity != plan.identity)
            throw BadUsage("--resume: the journal '" + j.string() +
                                  "' was written by a different sweep (its sweep file, base scenario, --set, "
                                  "--seed, --replications or --shard differ); run without --resume to start afresh");
        if (scan.torn) {
            // A kill during a write leaves a cut entry; a damaged byte fails an entry's checksum,
            // and everything after it is dropped with it: say so, as those points run again.
            std::error_code ec;
            const std::uintmax_t bytes = fs::file_size(j, ec);
            std::cerr << "entangle: --resume: '" << j.string() << "' holds " << scan.entries.size()
                      << " complete points, then " << (ec ? 0 : bytes - scan.valid_bytes)
                      << " bytes that fail their check (cut by a kill, or damaged): dropped; the points in them run again\n";
            truncate_journal(j, scan.valid_bytes);
        }
        if (done.done.empty()) done.done.assign(plan.file_points.size(), false);
        for (const JournalEntry& e : scan.entries)
            if (const std::optional<std::size_t> at = plan.file_points.index_of(e.point)) done.mark(*at);
    }
    return done;
}

// The results file, written while the sweep runs from the journals of
// `processes` processes (docs/sweeps.md): on its own thread when the sweep
// has several, so no worker waits for it.
std::unique_ptr<SweepAssembler> start_assembly(const SweepPlan& plan, const Arguments& args, int processes) {
    std::vector<fs::path> journals;
    for (int p = 0; p < processes; ++p) journals.push_back(journal_path_for(plan.out, p));
    const int threads = args.threads > 0 ? args.threads : default_thread_count();
    return std::make_unique<SweepAssembler>(plan.out, plan.layout, plan.file_points, plan.identity,
                                            std::move(journals), threads > 1, plan.writer);
}

bool stderr_is_terminal() { return isatty(STDERR_FILENO) == 1; }

}  // namespace

namespace {

// Runs the points `source` gives on this process's threads, journaling each
// completed point to journal `process`.
SweepOutcome run_points(const SweepPlan& plan, const Arguments& args, PointSource& source, int process,
                        bool append, const std::function<void(std::size_t, std::size_t)>& progress,
                        SweepAssembler* assembler) {
    JournalSink sink(plan.out, plan.layout, plan.identity, process, append, plan.writer, assembler);
    const agents::StandardModel model;
    SweepRunOptions options;
    options.threads = args.threads;
    options.seed = plan.seed;
    options.replications = plan.replications;
    options.statistics = plan.statistics;
    options.series = plan.series;
    options.cancel = args.interrupted;
    options.progress = progress;
    const auto scenario_of = [&](std::uint32_t p) { return plan.scenarios->at(*plan.design, p); };
    return run_sweep(source, scenario_of, model, options, sink);
}

// The points left to run, in order.
std::unique_ptr<PointSource> points_to_run(const SweepPlan& plan, const DonePoints& done) {
    return std::make_unique<RangeSource>(plan.file_points, done.done);
}

int report(const SweepPlan& plan, const Arguments& args, std::size_t written, bool cancelled,
           std::size_t already, std::chrono::steady_clock::time_point started) {
    if (cancelled || written < plan.file_points.size()) {
        std::fprintf(stderr,
                     "entangle: sweep interrupted with %zu of %zu points complete; they are in %s.partial "
                     "(complete=false); `entangle sweep %s --resume` (same options) continues\n",
                     written, plan.file_points.size(), plan.out.string().c_str(), args.positional[0].c_str());
        return exit_interrupted;
    }
    if (!args.quiet) {
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        std::cout << "sweep '" << plan.spec.name << "': " << plan.file_points.size() << " points x "
                  << plan.replications << " replications";
        if (already > 0) std::cout << " (" << already << " points done before the resume)";
        std::cout << " in " << seconds << " s\nresults: " << plan.out.string() << "\n";
    }
    return exit_ok;
}

std::function<void(std::size_t, std::size_t)> progress_line(const SweepPlan& plan, std::size_t already,
                                                            std::size_t todo,
                                                            std::chrono::steady_clock::time_point started,
                                                            std::function<std::size_t(std::size_t)> points_of = {}) {
    return [&plan, already, todo, started, points_of](std::size_t points, std::size_t reps) {
        const std::size_t shown = points_of ? points_of(points) : points;
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        const double rate = static_cast<double>(reps) / std::max(seconds, 1e-9);
        const double left = static_cast<double>(todo > shown ? todo - shown : 0) * plan.replications;
        // Points count the whole file; replications and their rate, this process's work since it started.
        const std::string resumed = already > 0 ? " (" + std::to_string(already) + " from before the resume)" : "";
        std::fprintf(stderr, "\rsweep %s: %zu/%zu points%s, %zu replications run, %.1f replications/s, ETA %.0fs   ",
                     plan.spec.name.c_str(), shown + already, plan.file_points.size(), resumed.c_str(), reps, rate,
                     left / std::max(rate, 1e-9));
    };
}

#ifdef ENTANGLE_HAVE_MPI
int sweep_ranks(const SweepPlan& plan, const Arguments& args, const mpi::Session& session,
                const DonePoints& done, std::chrono::steady_clock::time_point started);

int command_sweep_mpi(const Arguments& args, int argc, char** argv) {
    mpi::Session session(argc, argv);
    const auto started = std::chrono::steady_clock::now();
    // Every rank plans the same sweep (deterministic); a bad input fails on every rank alike.
    const SweepPlan plan = prepare(args);
    DonePoints done;
    int setup_failed = 0;
    std::string why;
    if (session.rank() == 0) {
        try {
            prepare_output_path(plan.out);  // a bad -o is exit 2 on every rank, before anything runs
            if (!args.quiet) print_scenario_notes(plan.scenarios->base(), std::cerr);
            done = resume_points(plan, args.resume);
        } catch (const std::exception& e) {
            setup_failed = 1;
            why = e.what();
        }
    }
    if (session.max_over_ranks(setup_failed)) {
        if (session.rank() == 0) throw BadUsage(why);
        return 2;
    }
    session.barrier();  // journals checked, cut or removed before any rank opens its own
    try {
        return sweep_ranks(plan, args, session, done, started);
    } catch (const std::exception& e) {
        // The other ranks may be waiting for this one: stop them all rather than hang.
        std::fprintf(stderr, "entangle (rank %d): %s\n", session.rank(), e.what());
        session.abort(1);
    }
}

int sweep_ranks(const SweepPlan& plan, const Arguments& args, const mpi::Session& session,
                const DonePoints& done, std::chrono::steady_clock::time_point started) {
    const std::size_t todo = plan.file_points.size() - done.count;
    mpi::CoordinatedSource source(session, session.rank() == 0 ? points_to_run(plan, done) : nullptr, args.interrupted);
    const bool show_progress = session.rank() == 0 && !args.quiet && stderr_is_terminal();
    std::function<void(std::size_t, std::size_t)> progress;
    if (show_progress)
        progress = progress_line(plan, done.count, todo, started,
                                 [&source](std::size_t) { return source.handed_out(); });
    const fs::path journal = journal_path_for(plan.out, session.rank());
    // Rank 0 writes the file while the ranks run, following every rank's journal.
    std::unique_ptr<SweepAssembler> assembler = session.rank() == 0 ? start_assembly(plan, args, session.size()) : nullptr;
    const SweepOutcome outcome =
        run_points(plan, args, source, session.rank(), args.resume && fs::exists(journal), progress, assembler.get());
    source.finish();
    if (show_progress) std::fputc('\n', stderr);
    const bool cancelled = session.max_over_ranks(outcome.cancelled ? 1 : 0) != 0;
    session.barrier();  // every journal closed
    int code = exit_ok;
    if (session.rank() == 0) {
        const std::size_t written = assembler->finish(!cancelled);
        code = report(plan, args, written, cancelled, done.count, started);
    }
    return session.max_over_ranks(code);
}
#endif

// Started by an MPI launcher (mpirun, srun): OpenMPI, PMI-2 and PMIx set these.
bool launched_by_mpi_launcher() {
    for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"})
        if (std::getenv(name)) return true;
    return false;
}

}  // namespace

namespace {

int run_sweep(const Arguments& args, int argc, char** argv) {
    if (launched_by_mpi_launcher()) {
#ifdef ENTANGLE_HAVE_MPI
        return command_sweep_mpi(args, argc, argv);
#else
        throw BadUsage("this entangle was built without MPI (CMake found none), so it cannot share a sweep "
                              "over the ranks mpirun started; rebuild after scripts/install-deps.sh --with-mpi, or "
                              "use --shard I/N (docs/cluster.md)");
#endif
    }
    (void)argc, (void)argv;
    const auto started = std::chrono::steady_clock::now();
    const SweepPlan plan = prepare(args);
    prepare_output_path(plan.out);  // a bad -o is exit 2 before anything runs, as for `run`
    if (!args.quiet) print_scenario_notes(plan.scenarios->base(), std::cerr);
    const DonePoints done = resume_points(plan, args.resume);
    const std::size_t todo = plan.file_points.size() - done.count;
    const std::unique_ptr<PointSource> source = points_to_run(plan, done);
    const bool show_progress = !args.quiet && stderr_is_terminal();
    const bool append = args.resume && fs::exists(journal_path_for(plan.out, 0));
    const std::unique_ptr<SweepAssembler> assembler = start_assembly(plan, args, 1);
    SweepOutcome outcome;
    try {
        outcome = run_points(plan, args, *source, 0, append,
                             show_progress ? progress_line(plan, done.count, todo, started)
                                           : std::function<void(std::size_t, std::size_t)>{},
                             assembler.get());
    } catch (const InputError& e) {
        // A point the checks before the run did not build (they cover each parameter's extremes).
        if (show_progress) std::fputc('\n', stderr);
        for (const InputProblem& p : e.problems()) std::cerr << p.format() << "\n";
        assembler->finish(false);
        std::cerr << "entangle: the sweep stopped at a point whose scenario is invalid; the points completed "
                     "before it stay in " << journal_path_for(plan.out, 0).string() << " (and "
                  << partial_path_for(plan.out).string() << ")\n";
        return 2;
    }
    if (show_progress) std::fputc('\n', stderr);
    const std::size_t written = assembler->finish(!outcome.cancelled);
    return report(plan, args, written, outcome.cancelled, done.count, started);
}

}  // namespace

int command_sweep(const Arguments& args, int argc, char** argv) {
    try {
        return run_sweep(args, argc, argv);
    } catch (const EmptyShard& e) {
        if (!args.quiet) std::cout << e.message;
        return exit_ok;
    }
}

int command_merge(const Arguments& args) {
    if (args.positional.empty() || !args.output)
        throw BadUsage("merge: expected shard files and an output (entangle merge SHARD.h5... -o OUT.h5)");
    std::vector<fs::path> shards(args.positional.begin(), args.positional.end());
    const fs::path out(*args.output);
    prepare_output_path(out);
    try {
        const std::size_t points = merge_shards(shards, out);
        if (!args.quiet)
            std::cout << "merged " << shards.size() << " shards, " << points << " points: " << out.string() << "\n";
    } catch (const ShardMismatch& e) {
        throw BadUsage(e.what());
    }
    return exit_ok;
}

int command_validate_sweep(const Arguments& args) {
    const SweepSpec spec = load_sweep(args.positional[0]);
    SweepScenarios scenarios(spec, args.overrides);
    const std::uint64_t seed = args.seed ? *args.seed : spec.seed ? *spec.seed : scenarios.base().seed;
    const SweepDesign design(spec, seed);
    scenarios.check(design);
    check_runnable(scenarios.base());
    print_scenario_notes(scenarios.base(), std::cout);
    std::cout << args.positional[0] << ": ok (sweep '" << spec.name << "' of '" << spec.base << "', "
              << design_method_name(spec.method) << " design, " << design.points() << " points, "
              << spec.parameters.size() << " parameters, "
              << (spec.keep_replications ? "every replication kept" : "statistics per point") << ")\n";
    return exit_ok;
}

}  // namespace entangle::cli
