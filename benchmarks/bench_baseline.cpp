// Throughput of the bundled baseline: replications and firm-steps per second
// on 1 and on all threads, with output off (simulate only), records kept but
// not written, and written to HDF5; and peak memory. Prints figures; never
// passes or fails. Usage: entangle_bench [SCENARIO.yaml] [--replications N] [--simulate-only]
// --simulate-only runs just 1 thread with output off and no warm-up: the
// input for instruction counts under callgrind.
#include <sys/resource.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include "agents/standard_model.hpp"
#include "engine/runner.hpp"
#include "engine/scenario/loader.hpp"
#include "engine/simulation.hpp"
#include "engine/sweep_runner.hpp"
#include "output/results_writer.hpp"

using namespace entangle;

namespace {

struct NullSink final : RecordSink {
    void write(const ReplicationRecord&) override {}
    void finish(bool) override {}
};

// User plus system CPU time of the whole process (all threads): on a shared
// machine the wall clock counts time the VM was not running us; this does not.
double process_cpu_seconds() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    const auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

double peak_memory_mib() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss / 1024.0;  // Linux reports KiB
}

enum class Output { off, records, hdf5 };

void measure(const Scenario& sc, int replications, int threads, Output output) {
    const agents::StandardModel model;
    const auto tasks = replication_tasks(sc, 0, replications);
    RunOptions options;
    options.threads = threads;
    options.seed = sc.seed;
    options.record = output != Output::off;
    NullSink null_sink;
    const std::filesystem::path file = std::filesystem::temp_directory_path() / "entangle_bench.h5";
    const double cpu_start = process_cpu_seconds();
    const auto start = std::chrono::steady_clock::now();
    if (output == Output::hdf5) {
        WriterOptions writer_options;  // as `entangle run` writes: bounded text columns fixed-length
        writer_options.table_text = table_text_bounds(sc, SweepSpec{});
        ResultsWriter writer(file, make_layout(sc, "run", sc.seed, replications, {sc.name}), writer_options);
        run_tasks(tasks, model, options, &writer);
        writer.finish(true);
    } else {
        run_tasks(tasks, model, options, &null_sink);
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double cpu_seconds = process_cpu_seconds() - cpu_start;
    const double firm_steps = static_cast<double>(replications) * sc.steps() * sc.firms.size();
    const char* label = output == Output::off ? "off" : output == Output::records ? "records" : "hdf5";
    std::printf("%-8d %-8s %10d %10.3f %14.1f %16.3e %18.3e %10.3f %18.3e %10.1f\n", threads, label, replications,
                seconds, replications / seconds, firm_steps / seconds, firm_steps / seconds / threads, cpu_seconds,
                firm_steps / cpu_seconds, peak_memory_mib());
    if (output == Output::hdf5) {
        std::printf("         hdf5 file: %.2f MiB for %d replications\n",
                    std::filesystem::file_size(file) / 1048576.0, replications);
        std::filesystem::remove(file);
    }
}

}  // namespace

int main(int argc, char** argv) {
    std::string path = std::string(ENTANGLE_SOURCE_DIR) + "/scenarios/baseline.yaml";
    int replications = 400;
    bool simulate_only = false;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--replications" && i + 1 < argc) {
            const std::string count = argv[++i];
            const auto [end, error] = std::from_chars(count.data(), count.data() + count.size(), replications);
            if (error != std::errc() || end != count.data() + count.size() || replications < 1) {
                std::fprintf(stderr, "entangle_bench: --replications takes a whole number of at least 1, not '%s'\n",
                             count.c_str());
                return 2;
            }
        } else if (a == "--simulate-only") {
            simulate_only = true;
        } else if (!a.empty() && a[0] != '-') {
            path = a;
        } else {
            std::fprintf(stderr, "usage: entangle_bench [SCENARIO.yaml] [--replications N] [--simulate-only]\n");
            return a == "--help" || a == "-h" ? 0 : 2;
        }
    }
    Scenario sc;
    try {
        sc = load_scenario(path);
    } catch (const InputError& e) {
        std::fprintf(stderr, "entangle_bench: %s\n", e.what());
        return 2;
    }
    const int cores = default_thread_count();
    std::printf("scenario %s: %zu firms, %d steps, %zu chips; %d cores\n", sc.name.c_str(), sc.firms.size(),
                sc.steps(), sc.chips.size(), cores);
    std::printf("%-8s %-8s %10s %10s %14s %16s %18s %10s %18s %10s\n", "threads", "output", "reps", "seconds", "reps/s",
                "firm-steps/s", "firm-steps/s/core", "cpu s", "firm-steps/cpu-s", "peak MiB");
    if (simulate_only) {
        measure(sc, replications, 1, Output::off);
        return 0;
    }
    measure(sc, std::max(replications / 8, 4), 1, Output::off);  // warm-up, not reported separately
    for (Output output : {Output::off, Output::records, Output::hdf5})
        for (int threads : {1, cores}) measure(sc, replications, threads, output);
    return 0;
}
