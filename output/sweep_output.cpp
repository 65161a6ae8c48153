#include "output/sweep_output.hpp"

#include <algorithm>
#include <chrono>

namespace entangle {

namespace fs = std::filesystem;

namespace {

std::unique_ptr<ResultsWriter> make_encoder(const fs::path& results, const RunLayout& layout, int process,
                                            WriterOptions options) {
    options.in_memory = true;
    options.described_points.reset();
    RunLayout one = layout;  // the chunks of a record do not depend on the number of points
    one.point_labels = {"0"};
    one.swept_params.clear();
    fs::path name = results;
    name += ".in-memory-" + std::to_string(process);
    return std::make_unique<ResultsWriter>(name, one, options);
}

// The journals are what survives a kill, not the .partial: no periodic flush.
WriterOptions assembly_options(WriterOptions options) {
    options.periodic_flush = false;
    return options;
}

// How often the assembler's thread looks at journals nobody tells it about
// (other MPI ranks'); this process's own journal wakes it at once.
constexpr auto poll_interval = std::chrono::milliseconds(100);

}  // namespace

SweepAssembler::SweepAssembler(const fs::path& results, const RunLayout& layout,
                               PointRange file_points, std::string identity,
                               std::vector<fs::path> journals, bool background, WriterOptions options)
    : results_(results),
      file_points_(file_points),
      identity_(std::move(identity)),
      writer_(results, layout, assembly_options(options)),
      background_(background) {
    for (const fs::path& j : find_journals(results_)) follow(j);
    for (const fs::path& j : journals) follow(j);
    if (background_) thread_ = std::thread([this] { run(); });
}

SweepAssembler::~SweepAssembler() {
    if (thread_.joinable()) {
        {
            const std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        wake_.notify_one();
        thread_.join();
    }
}

void SweepAssembler::follow(const fs::path& journal) {
    for (const JournalTail& t : tails_)
        if (t.path().lexically_normal() == journal.lexically_normal()) return;
    tails_.emplace_back(journal, tails_.size());
}

void SweepAssembler::journal_grew() {
    if (!background_) return advance(false);
    {
        const std::lock_guard lock(mutex_);
        grew_ = true;
    }
    wake_.notify_one();
}

void SweepAssembler::without_writing(const std::function<void()>& use) {
    const std::lock_guard writing(hdf5_);
    use();
}

void SweepAssembler::run() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        wake_.wait_for(lock, poll_interval, [&] { return grew_ || stopping_; });
        if (stopping_) break;
        grew_ = false;
        lock.unlock();
        try {
            const std::lock_guard writing(hdf5_);
            advance(false);
        } catch (...) {
            lock.lock();
            error_ = std::current_exception();
            return;  // finish() reports it; the journals keep every point
        }
        lock.lock();
    }
}

void SweepAssembler::advance(bool settled) {
    const auto write_waiting = [&] {
        while (next_ < file_points_.size()) {
            const auto found = waiting_.find(file_points_.at(next_));
            if (found == waiting_.end()) break;
            write(found->second);
            waiting_.erase(found);
            ++next_;
        }
    };
    for (JournalTail& tail : tails_) {
        std::error_code ec;
        if (settled && !fs::exists(tail.path(), ec)) continue;  // a process that journaled nothing
        const auto check_identity = [&] {
            if (tail.started() && tail.identity() != identity_)
                throw OutputError("the journal '" + tail.path().string() + "' belongs to another sweep");
        };
        // The next point in order is written from the payload the poll has
        // just read and checked, not read again (on one thread a sweep
        // journals its points in order; on several, mostly); a later point
        // waits, and is read again when every point before it is written.
        const auto take = [&](const JournalEntry& e, std::span<const unsigned char> payload) {
            check_identity();
            const std::optional<std::size_t> at = file_points_.index_of(e.point);
            if (!at)
                throw OutputError("the journal '" + tail.path().string() + "' holds point " +
                                  std::to_string(e.point) + ", which is not in this sweep's output");
            if (*at < next_) return;  // never written twice
            if (*at > next_) {
                waiting_.emplace(e.point, e);
                return;
            }
            write_records(*at, read_journal_payload(payload, e.point));
            waiting_.erase(e.point);  // the same point found in another journal (a resume) is not written twice
            ++next_;
            write_waiting();
        };
        tail.poll(settled, take);
        check_identity();
    }
    write_waiting();
}

void SweepAssembler::write(const JournalEntry& e) {
    write_records(*file_points_.index_of(e.point), read_journal_entry(tails_[e.journal].path(), e));
}

void SweepAssembler::write_records(std::size_t file_point, std::vector<ReplicationRecord> records) {
    for (ReplicationRecord& r : records) r.point = static_cast<std::uint32_t>(file_point);
    writer_.write_point(records);
    ++written_;
}

std::size_t SweepAssembler::finish(bool expect_complete) {
    if (thread_.joinable()) {
        {
            const std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        wake_.notify_one();
        thread_.join();
    }
    if (error_) std::rethrow_exception(error_);
    for (const fs::path& j : find_journals(results_)) follow(j);
    advance(true);
    // Points after a gap (a point interrupted before it was journaled), still in ascending order.
    for (const auto& [point, e] : waiting_) write(e);
    waiting_.clear();
    const bool complete = written_ == file_points_.size() && expect_complete;
    writer_.finish(complete);
    if (complete)
        for (const JournalTail& t : tails_) {
            std::error_code ec;
            fs::remove(t.path(), ec);
        }
    return written_;
}

JournalSink::JournalSink(const fs::path& results, const RunLayout& layout, const std::string& identity, int process,
                         bool append, WriterOptions options, SweepAssembler* assembler)
    : journal_(journal_path_for(results, process), identity, append), assembler_(assembler) {
    const auto lay_out = [&] { encoder_ = make_encoder(results, layout, process, options); };
    if (assembler_) assembler_->without_writing(lay_out);
    else lay_out();
}

JournalSink::~JournalSink() {
    if (assembler_) assembler_->without_writing([&] { encoder_.reset(); });
}

void JournalSink::encode(ReplicationRecord& record) const { encoder_->encode(record); }

void JournalSink::write_point(std::uint32_t point, std::vector<ReplicationRecord>& records) {
    journal_.append(point, records);
    if (assembler_) assembler_->journal_grew();
}

std::size_t assemble_sweep(const fs::path& results, const RunLayout& layout,
                           PointRange file_points, const std::string& identity,
                           bool expect_complete, WriterOptions options) {
    SweepAssembler assembler(results, layout, file_points, identity, {}, false, options);
    return assembler.finish(expect_complete);
}

}  // namespace entangle
