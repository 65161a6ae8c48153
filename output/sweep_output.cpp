#include "output/sweep_output.hpp"

#include <algorithm>
#include <optional>

namespace entangle {

namespace fs = std::filesystem;

namespace {

std::unique_ptr<ResultsWriter> make_encoder(const fs::path& results, const RunLayout& layout, int process,
                                            WriterOptions options) {
    options.in_memory = true;
    RunLayout one = layout;  // the chunks of a record do not depend on the number of points
    one.point_labels = {"0"};
    one.swept_params.clear();
    fs::path name = results;
    name += ".in-memory-" + std::to_string(process);
    return std::make_unique<ResultsWriter>(name, one, options);
}

}  // namespace

JournalSink::JournalSink(const fs::path& results, const RunLayout& layout, const std::string& identity, int process,
                         bool append, WriterOptions options)
    : encoder_(make_encoder(results, layout, process, options)),
      journal_(journal_path_for(results, process), identity, append) {}

JournalSink::~JournalSink() = default;

void JournalSink::encode(ReplicationRecord& record) const { encoder_->encode(record); }

void JournalSink::write_point(std::uint32_t point, std::vector<ReplicationRecord>& records) {
    journal_.append(point, records);
}

std::size_t assemble_sweep(const fs::path& results, const RunLayout& layout,
                           const std::vector<std::uint32_t>& file_points, const std::string& identity,
                           bool expect_complete, WriterOptions options) {
    std::vector<JournalEntry> entries;
    const std::vector<fs::path> journals = find_journals(results);
    for (std::size_t i = 0; i < journals.size(); ++i) {
        const JournalScan scan = scan_journal(journals[i], i);
        if (scan.identity != identity)
            throw OutputError("the journal '" + journals[i].string() + "' belongs to another sweep");
        entries.insert(entries.end(), scan.entries.begin(), scan.entries.end());
    }
    std::stable_sort(entries.begin(), entries.end(),
                     [](const JournalEntry& a, const JournalEntry& b) { return a.point < b.point; });
    ResultsWriter writer(results, layout, options);
    std::size_t written = 0;
    std::optional<std::uint32_t> last;
    for (const JournalEntry& e : entries) {
        if (last && *last == e.point) continue;  // never written twice
        last = e.point;
        const auto at = std::lower_bound(file_points.begin(), file_points.end(), e.point);
        if (at == file_points.end() || *at != e.point)
            throw OutputError("the journal '" + journals[e.journal].string() + "' holds point " +
                              std::to_string(e.point) + ", which is not in this sweep's output");
        const auto local = static_cast<std::uint32_t>(at - file_points.begin());
        std::vector<ReplicationRecord> records = read_journal_entry(journals[e.journal], e);
        for (ReplicationRecord& r : records) r.point = local;
        writer.write_point(records);
        ++written;
    }
    const bool complete = written == file_points.size() && expect_complete;
    writer.finish(complete);
    if (complete)
        for (const fs::path& j : journals) fs::remove(j);
    return written;
}

}  // namespace entangle
