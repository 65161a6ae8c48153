// Sweep figures (benchmarks/README.md): throughput on 1 and 2 threads and
// the share of a sweep's time spent writing results; throughput on 1 and 2
// MPI ranks; peak memory and output size per point as the number of points
// grows. Prints figures; never passes or fails.
// Usage: entangle_bench_sweep [--points N] [--replications R] [--skip-memory] [--skip-mpi]
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "agents/standard_model.hpp"
#include "engine/scenario/sweep_loader.hpp"
#include "engine/simulation.hpp"
#include "engine/sweep_runner.hpp"
#include "output/sweep_output.hpp"

extern char** environ;

using namespace entangle;
namespace fs = std::filesystem;

namespace {

const std::string source_dir = ENTANGLE_SOURCE_DIR;

struct NullPointSink final : PointSink {
    void write_point(std::uint32_t, std::vector<ReplicationRecord>&) override {}
};

double cpu_seconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

struct Timing {
    double wall = 0, cpu = 0;
};

// The faster of two runs (this shared machine is noisy), wall and CPU taken separately.
template <typename F>
Timing timed(F&& f) {
    Timing best{1e300, 1e300};
    for (int i = 0; i < 2; ++i) {
        const auto start = std::chrono::steady_clock::now();
        const double cpu0 = cpu_seconds();
        f();
        best.wall = std::min(best.wall, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        best.cpu = std::min(best.cpu, cpu_seconds() - cpu0);
    }
    return best;
}

fs::path write_sweep(const fs::path& dir, const std::string& name, const std::string& base, const std::string& design,
                     int replications, bool keep) {
    const fs::path file = dir / (name + ".yaml");
    std::ofstream(file) << "sweep:\n  base: " << base << "\n  design: " << design << "\n  replications: " << replications
                        << "\n  seed: 7\nparameters:\n"
                        << "  market.end_market_growth: {min: 0.5, max: 1.5}\n"
                        << "  market.lab_power: {min: 0.3, max: 0.7}\n"
                        << "outputs:\n  series: [compute, revenue, capability, spot_price]\n"
                        << "  keep_replications: " << (keep ? "true" : "false") << "\n";
    return file;
}

// The in-process sweep: simulate (with statistics), then the same with the
// output path (compress + journal + the file assembled alongside).
double throughput(const fs::path& sweep_file, const fs::path& dir, int threads) {
    const SweepSpec spec = load_sweep(sweep_file);
    const SweepScenarios scenarios(spec, {});
    const std::uint64_t seed = *spec.seed;
    const SweepDesign design(spec, seed);
    const Scenario first = scenarios.at(design, 0);
    std::vector<std::uint32_t> points;
    std::vector<std::string> labels;
    for (std::uint32_t p = 0; p < design.points(); ++p) points.push_back(p), labels.push_back(std::to_string(p));
    RunLayout layout = make_layout(first, "sweep", seed, spec.replications, labels);
    layout.statistics = spec.keep_replications ? std::vector<std::string>{} : spec.statistics;
    SweepRunOptions options;
    options.threads = threads;
    options.seed = seed;
    options.replications = spec.replications;
    for (const std::string& s : layout.statistics) options.statistics.push_back(*parse_statistic(s));
    options.series.firm = {FirmSeries::revenue, FirmSeries::compute, FirmSeries::capability};
    options.series.market = {MarketSeries::spot_price};
    const agents::StandardModel model;
    const auto scenario_of = [&](std::uint32_t p) { return scenarios.at(design, p); };
    const double reps = static_cast<double>(design.points()) * spec.replications;
    WriterOptions writer;  // as `entangle sweep`: the tables' bounded text columns fixed-length
    writer.table_text = table_text_bounds(scenarios.base(), spec);

    NullPointSink null_sink;
    const Timing sim = timed([&] {
        RangeSource all(PointRange{0, 1, design.points()});
        run_sweep(all, scenario_of, model, options, null_sink);
    });
    const fs::path out = dir / ("throughput_" + std::to_string(threads) + ".h5");
    // As `entangle sweep` runs it: compress and journal each point, the file
    // written from the journal while the sweep runs (on a thread of its own
    // with 2 threads), finished at the end.
    double tail = 1e300;  // the serial part after the last point: finishing the file
    const Timing with_output = timed([&] {
        SweepAssembler assembler(out, layout, PointRange{0, 1, design.points()}, "bench", {journal_path_for(out, 0)}, threads > 1, writer);
        {
            JournalSink sink(out, layout, "bench", 0, false, writer, &assembler);
            RangeSource all(PointRange{0, 1, design.points()});
            run_sweep(all, scenario_of, model, options, sink);
        }
        const auto start = std::chrono::steady_clock::now();
        assembler.finish(true);
        tail = std::min(tail, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    });
    const double write_wall = with_output.wall - sim.wall;
    const double write_cpu = with_output.cpu - sim.cpu;
    std::printf("  %d thread(s): %7.1f replications/s (sweep + file, wall)   simulate+statistics %.2f s "
                "(CPU %.2f s), with output %.2f s (CPU %.2f s)\n",
                threads, reps / with_output.wall, sim.wall, sim.cpu, with_output.wall, with_output.cpu);
    std::printf("               writing share: %.1f%% of wall time, %.1f%% of CPU time; finishing the file after "
                "the last point %.3f s; file %.1f KiB per point\n",
                100 * write_wall / with_output.wall, 100 * write_cpu / with_output.cpu, tail,
                static_cast<double>(fs::file_size(out)) / 1024.0 / design.points());
    fs::remove(out);
    return reps / with_output.wall;
}

double peak_memory_mib() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;  // kB
    return 0;
}

// A whole sweep as `entangle sweep` runs it (statistics or replications kept,
// journaled, then assembled), in this process.
Timing sweep_in_process(const fs::path& sweep_file, const fs::path& out, int threads) {
    const auto start = std::chrono::steady_clock::now();
    const SweepSpec spec = load_sweep(sweep_file);
    const SweepScenarios scenarios(spec, {});
    const SweepDesign design(spec, *spec.seed);
    // As `entangle sweep`: the points described (labels and swept values computed by the writer), not listed.
    RunLayout layout = make_layout(scenarios.base(), "sweep", *spec.seed, spec.replications, {});
    for (std::size_t j = 0; j < design.parameters(); ++j) {
        RunLayout::SweptParam swept;
        swept.key_path = design.parameter(j).path;
        layout.swept_params.push_back(std::move(swept));
    }
    SweepRunOptions options;
    options.threads = threads;
    options.seed = *spec.seed;
    options.replications = spec.replications;
    if (!spec.keep_replications) {
        layout.statistics = spec.statistics;
        for (const std::string& st : spec.statistics) options.statistics.push_back(*parse_statistic(st));
    }
    options.series.firm = {FirmSeries::revenue, FirmSeries::compute, FirmSeries::capability};
    options.series.market = {MarketSeries::spot_price};
    const agents::StandardModel model;
    WriterOptions writer;
    writer.table_text = table_text_bounds(scenarios.base(), spec);
    writer.described_points = WriterOptions::DescribedPoints{
        PointRange{0, 1, design.points()}, [&design](std::uint32_t p, std::size_t j) { return design.value(p, j); }};
    SweepAssembler assembler(out, layout, PointRange{0, 1, design.points()}, "bench", {journal_path_for(out, 0)}, threads > 1, writer);
    {
        JournalSink sink(out, layout, "bench", 0, false, writer, &assembler);
        RangeSource all(PointRange{0, 1, design.points()});
        run_sweep(all, [&](std::uint32_t p) { return scenarios.at(design, p); }, model, options, sink);
    }
    assembler.finish(true);
    return Timing{std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 0};
}

struct Child {
    int exit_code = -1;
    double wall = 0;
};

Child spawn(const std::string& command) {
    const std::string shell = "exec " + command + " >/dev/null 2>&1";
    const char* argv[] = {"sh", "-c", shell.c_str(), nullptr};
    const auto start = std::chrono::steady_clock::now();
    pid_t pid = 0;
    Child c;
    if (posix_spawn(&pid, "/bin/sh", nullptr, nullptr, const_cast<char**>(argv), environ) != 0) return c;
    int status = 0;
    waitpid(pid, &status, 0);
    c.wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    c.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return c;
}

}  // namespace

// One sweep of n points of the minimal scenario, in this (fresh) process: prints its peak memory.
int memory_run(int n, bool keep) {
    const fs::path dir = fs::temp_directory_path() / ("entangle_bench_memory_" + std::to_string(n));
    fs::remove_all(dir);
    fs::create_directories(dir);
    const fs::path file = write_sweep(dir, "mem", source_dir + "/scenarios/minimal.yaml",
                                      "{method: random, points: " + std::to_string(n) + "}", 4, keep);
    const fs::path out = dir / "mem.h5";
    const Timing t = sweep_in_process(file, out, 2);
    std::printf("peak %.1f MiB, %.2f s, file %.2f KiB per point\n", peak_memory_mib(), t.wall,
                static_cast<double>(fs::file_size(out)) / 1024.0 / n);
    fs::remove_all(dir);
    return 0;
}

int main(int argc, char** argv) {
    if (argc == 4 && std::string(argv[1]) == "--memory-run") return memory_run(std::atoi(argv[2]), std::string(argv[3]) == "keep");
    int points = 32, replications = 16;
    bool memory = true, mpi = true;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--points" && i + 1 < argc) points = std::atoi(argv[++i]);
        else if (a == "--replications" && i + 1 < argc) replications = std::atoi(argv[++i]);
        else if (a == "--skip-memory") memory = false;
        else if (a == "--skip-mpi") mpi = false;
        else {
            std::fprintf(stderr, "usage: entangle_bench_sweep [--points N] [--replications R] [--skip-memory] [--skip-mpi]\n");
            return 2;
        }
    }
    const fs::path dir = fs::temp_directory_path() / "entangle_bench_sweep";
    fs::remove_all(dir);
    fs::create_directories(dir);
    const std::string baseline = source_dir + "/scenarios/baseline.yaml";
    const std::string minimal = source_dir + "/scenarios/minimal.yaml";
    const std::string design = "{method: lhs, points: " + std::to_string(points) + "}";

    std::printf("baseline sweep: %d points x %d replications, statistics [mean, std, p05, p50, p95] of 4 series\n",
                points, replications);
    const fs::path stats_file = write_sweep(dir, "stats", baseline, design, replications, false);
    double one = throughput(stats_file, dir, 1);
    std::printf("  parallel efficiency, 1 -> 2 threads (rate2 / (2 rate1)): %.2f\n", throughput(stats_file, dir, 2) / (2 * one));
    std::printf("baseline sweep, every replication kept (4 series):\n");
    const fs::path keep_file = write_sweep(dir, "keep", baseline, design, replications, true);
    one = throughput(keep_file, dir, 1);
    std::printf("  parallel efficiency, 1 -> 2 threads (rate2 / (2 rate1)): %.2f\n", throughput(keep_file, dir, 2) / (2 * one));

#ifdef ENTANGLE_MPIEXEC
    if (mpi) {
        // mpirun's own start-up (~0.5-1 s here) is a fixed cost that a long sweep on a
        // cluster does not feel: measured with a 1-point, 1-replication sweep and shown
        // apart. Each configuration runs three times, alternating, best of three, since
        // this VM's wall clock varies by tens of percent from run to run.
        const fs::path tiny_file = write_sweep(dir, "tiny", baseline, "{method: lhs, points: 1}", 1, false);
        const auto mpi_sweep = [&](int ranks, const fs::path& file) {
            return spawn(std::string(ENTANGLE_MPIEXEC) + " --allow-run-as-root --oversubscribe --bind-to none -n " +
                         std::to_string(ranks) + " " + ENTANGLE_BINARY + " sweep " + file.string() +
                         " --threads 1 --quiet -o " + (dir / "mpi.h5").string());
        };
        double sweep_wall[3] = {0, INFINITY, INFINITY}, startup_wall[3] = {0, INFINITY, INFINITY};
        int exit_code = 0;
        for (int round = 0; round < 3; ++round)
            for (const int ranks : {1, 2}) {
                const Child c = mpi_sweep(ranks, stats_file);
                const Child s = mpi_sweep(ranks, tiny_file);
                exit_code = std::max({exit_code, c.exit_code, s.exit_code});
                sweep_wall[ranks] = std::min(sweep_wall[ranks], c.wall);
                startup_wall[ranks] = std::min(startup_wall[ranks], s.wall);
            }
        std::printf("MPI ranks (entangle sweep of the statistics sweep under mpirun, 1 thread per rank, best of 3):\n");
        for (const int ranks : {1, 2})
            std::printf("  %d rank(s): %.2f s, %.1f replications/s; start-up (1 point, 1 replication) %.2f s\n", ranks,
                        sweep_wall[ranks], points * replications / sweep_wall[ranks], startup_wall[ranks]);
        std::printf("  parallel efficiency, 1 -> 2 ranks: %.2f with start-up, %.2f without (exit %d)\n",
                    sweep_wall[1] / (2 * sweep_wall[2]),
                    (sweep_wall[1] - startup_wall[1]) / (2 * (sweep_wall[2] - startup_wall[2])), exit_code);
    }
#else
    (void)mpi;
    std::printf("MPI: not built (CMake found no MPI)\n");
#endif

    if (memory) {
        std::printf("peak memory and output size as points grow (minimal scenario, 4 replications, 2 threads; "
                    "each sweep in a fresh process, as entangle sweep runs it):\n");
        const std::string self = fs::read_symlink("/proc/self/exe").string();
        for (const bool keep : {false, true})
            for (const int n : {100, 400, 1600, 6400, 25600}) {
                const std::string command = self + " --memory-run " + std::to_string(n) + (keep ? " keep" : " statistics");
                FILE* pipe = popen(command.c_str(), "r");
                char line[256] = {0};
                if (pipe && std::fgets(line, sizeof line, pipe)) std::printf("  %-10s %5d points: %s", keep ? "keep" : "statistics", n, line);
                if (pipe) pclose(pipe);
            }
    }
    fs::remove_all(dir);
    return 0;
}
