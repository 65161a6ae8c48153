#pragma once
// A sweep's output path (docs/sweeps.md): workers compress each finished
// point as the results file stores it and append it to this process's
// journal; a SweepAssembler writes the results file from every journal,
// points in ascending order, while the sweep runs, so the file is the same
// whatever the threads, ranks, interruptions or the order points finished in.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/sink.hpp"
#include "engine/sweep_runner.hpp"
#include "output/results_writer.hpp"
#include "output/sweep_journal.hpp"

namespace entangle {

// Writes the results file (through .partial) from the journals next to it:
// every point of `file_points` (the file's point i is file_points.at(i)) once,
// in ascending order. While the sweep runs it writes
// each point as soon as every point before it is journaled (by this process
// or, under MPI, by another rank: it follows their journals), so assembling
// overlaps simulating instead of following it; finish() writes the rest.
class SweepAssembler {
public:
    // Creates the .partial. `journals`: the journals this sweep's processes
    // write (journal_path_for(results, rank)); those already next to the
    // results (a resume) are followed too. `background`: a thread of its own
    // writes (a sweep on several threads: the workers never wait for the
    // file); otherwise journal_grew() writes on the caller's thread.
    SweepAssembler(const std::filesystem::path& results, const RunLayout& layout,
                   PointRange file_points, std::string identity,
                   std::vector<std::filesystem::path> journals, bool background, WriterOptions options = {});
    // Without finish(): stops the thread; the .partial stays complete=false.
    ~SweepAssembler();
    SweepAssembler(const SweepAssembler&) = delete;
    SweepAssembler& operator=(const SweepAssembler&) = delete;

    // A journal of this process grew by a point (one thread at a time).
    void journal_grew();
    // The sweep stopped (every journal closed): writes every journaled point
    // not yet written, in ascending order, and finishes the file: complete
    // (renamed, journals removed) when every point is there and
    // expect_complete. Returns the number of points in the file. Throws
    // OutputError for a journal of another sweep (identity), a point outside
    // file_points, or a failure to write (the journals are kept).
    std::size_t finish(bool expect_complete);
    // Points written so far (thread-safe).
    std::size_t points_written() const { return written_.load(); }
    // Runs `use` while the assembler's thread makes no HDF5 call: the HDF5
    // library (Debian's build) is not thread-safe, and a JournalSink lays out
    // and closes its in-memory encoder with HDF5 while the file is assembled.
    void without_writing(const std::function<void()>& use);

private:
    void follow(const std::filesystem::path& journal);
    void advance(bool settled);  // reads new journal entries, writes what is in order
    void write(const JournalEntry& entry);  // read from its journal
    void write_records(std::size_t file_point, std::vector<ReplicationRecord> records);
    void run();

    std::filesystem::path results_;
    PointRange file_points_;
    std::string identity_;
    ResultsWriter writer_;
    std::vector<JournalTail> tails_;
    std::map<std::uint32_t, JournalEntry> waiting_;  // journaled, not yet written (points after a gap)
    std::size_t next_ = 0;                           // file_points_[next_]: the next point to write
    std::atomic<std::size_t> written_{0};

    bool background_ = false;
    std::thread thread_;
    std::mutex mutex_;  // grew_, stopping_, error_
    std::mutex hdf5_;   // held by the thread while it writes
    std::condition_variable wake_;
    bool grew_ = false, stopping_ = false;
    std::exception_ptr error_;  // the thread's, rethrown by finish()
};

class JournalSink final : public PointSink {
public:
    // Journals to journal_path_for(results, process); `append` continues an
    // existing journal (a resume, after scan_journal/truncate_journal). Tells
    // `assembler` (if any) of each point journaled; it must outlive the sink.
    JournalSink(const std::filesystem::path& results, const RunLayout& layout, const std::string& identity,
                int process, bool append, WriterOptions options = {}, SweepAssembler* assembler = nullptr);
    ~JournalSink() override;
    void encode(ReplicationRecord& record) const override;
    void write_point(std::uint32_t point, std::vector<ReplicationRecord>& records) override;

private:
    std::unique_ptr<ResultsWriter> encoder_;  // in memory: never a file
    JournalWriter journal_;
    SweepAssembler* assembler_ = nullptr;
};

// The whole assembly at once, after the sweep: a SweepAssembler on the
// journals next to `results`, finished at once.
std::size_t assemble_sweep(const std::filesystem::path& results, const RunLayout& layout,
                           PointRange file_points, const std::string& identity,
                           bool expect_complete, WriterOptions options = {});

}  // namespace entangle
