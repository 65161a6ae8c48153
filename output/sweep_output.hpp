#pragma once
// A sweep's output path (docs/sweeps.md): workers compress each finished
// point as the results file stores it and append it to this process's
// journal; assemble_sweep writes the results file from every journal, points
// in ascending order, so the file is the same whatever the threads, ranks,
// interruptions or the order points finished in.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "engine/sink.hpp"
#include "engine/sweep_runner.hpp"
#include "output/results_writer.hpp"
#include "output/sweep_journal.hpp"

namespace entangle {

class JournalSink final : public PointSink {
public:
    // Journals to journal_path_for(results, process); `append` continues an
    // existing journal (a resume, after scan_journal/truncate_journal).
    JournalSink(const std::filesystem::path& results, const RunLayout& layout, const std::string& identity,
                int process, bool append, WriterOptions options = {});
    ~JournalSink() override;
    void encode(ReplicationRecord& record) const override;
    void write_point(std::uint32_t point, std::vector<ReplicationRecord>& records) override;

private:
    std::unique_ptr<ResultsWriter> encoder_;  // in memory: never a file
    JournalWriter journal_;
};

// Writes `results` (through .partial) from the journals next to it: every
// point of `file_points` (global indices, ascending; the file's point i is
// file_points[i]) found in them, once. complete=true and the rename only when
// every point is there and expect_complete; the journals are then removed.
// Returns the number of points written. Throws OutputError for a journal of
// another sweep (identity) or a point outside file_points.
std::size_t assemble_sweep(const std::filesystem::path& results, const RunLayout& layout,
                           const std::vector<std::uint32_t>& file_points, const std::string& identity,
                           bool expect_complete, WriterOptions options = {});

}  // namespace entangle
