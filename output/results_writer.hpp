#pragma once
// The HDF5 results writer (FORMATS.md "Results file (HDF5)"; docs/results.md).
// It lays out the whole file before the first record, writes each replication's
// slabs at [point, replication] as it arrives (any order, one record at a time),
// and appends its table rows. The file is written as FINAL.partial and renamed
// to FINAL only by finish(true), so FINAL is never a half-written file.
#include <filesystem>
#include <functional>
#include <optional>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "engine/sink.hpp"
#include "engine/sweep.hpp"
#include "output/output_error.hpp"

namespace entangle {

inline constexpr const char* results_schema_version = "1.0";

struct WriterOptions {
    // Deflate level 0..9 (0: shuffle only, no deflate). 1: on the baseline, files
    // are within 1% of levels 2..6 for 40% fewer instructions (libdeflate), and
    // compression is most of what writing costs.
    int gzip_level = 1;
    bool skip_network = false;  // keep /network empty (its matrices dominate the file size)
    // Lay the file out in memory only and never create it: a writer used just
    // to encode() records on a process that does not write the results file
    // (a sweep journals encoded points and assembles the file at the end).
    // Only what encode() reads is laid out: the datasets with their chunks
    // and filters, without coordinates, dimension scales or their attributes.
    bool in_memory = false;
    // Widths of the tables' bounded text columns (engine/sweep.hpp): each
    // non-zero one is stored as a fixed-length string of that many bytes;
    // all zero, every text column is variable-length.
    TableTextBounds table_text;
    // A sweep's points described instead of listed: with it, the layout's
    // point_labels and its swept parameters' values stay empty; the file's
    // point i is the sweep's point range.at(i), labelled by its number, and
    // swept_value(point, j) gives parameter j (layout.swept_params order) at
    // a sweep point. The writer computes them in blocks as it lays out the
    // file, so nothing per point is held: memory independent of the number
    // of points.
    struct DescribedPoints {
        PointRange range;
        std::function<double(std::uint32_t point, std::size_t j)> swept_value;
    };
    std::optional<DescribedPoints> described_points;
    // Flush the file every 30 s while writing, so that a run killed outright
    // leaves a .partial readable up to the last flush. A sweep's assembly
    // turns it off: its journal is what survives a kill (docs/sweeps.md), and
    // each flush compressed the tables' cached chunks, the partly filled ones
    // again at the next (4.8% of a sweep's instructions under callgrind,
    // which is slow enough for a flush).
    bool periodic_flush = true;
};

// FINAL + ".partial": where a writer for FINAL writes until finish(true).
std::filesystem::path partial_path_for(const std::filesystem::path& final_path);

class ResultsWriter final : public RecordSink {
public:
    // Creates final_path.partial (replacing an older one) and lays out every
    // group and dataset. Throws OutputError for an inconsistent layout or a
    // file that cannot be created. final_path itself is not touched.
    ResultsWriter(std::filesystem::path final_path, const RunLayout& layout, WriterOptions options = {});
    // Without finish(): like finish(false), errors swallowed.
    ~ResultsWriter() override;
    ResultsWriter(const ResultsWriter&) = delete;
    ResultsWriter& operator=(const ResultsWriter&) = delete;

    // Thread-safe (touches no HDF5 and nothing write() changes): fills
    // record.encoded with each chunk of the record's /firm, /market, /chip
    // and /network slabs as the datasets' filters (shuffle, then deflate)
    // store it, so that the expensive compression runs on the caller's
    // thread (output/deflate.hpp: other bytes than HDF5's zlib would
    // write, decoded by it to the same numbers). Leaves record.encoded empty for a record that does not
    // fit the layout (write() then reports it). The record must not change
    // between encode() and write().
    void encode(ReplicationRecord& record) const override;
    // Writes one replication at [record.point, record.replication]: the chunks
    // of record.encoded as they are when encode() filled them, otherwise
    // through HDF5's filter pipeline (same file contents). Throws OutputError
    // for a record whose shape does not match the layout, an index out of
    // range, or a replication written twice.
    void write(const ReplicationRecord& record) override;
    // write() of each record (a point's, in order), with their table rows
    // appended in one go: what a sweep's assembly calls.
    void write_point(std::span<const ReplicationRecord> records);
    // complete=true: sets the root attribute complete=true, closes the file and
    // renames it over final_path. Throws (leaving the .partial, complete=false)
    // if some replication of the layout was never written. complete=false:
    // closes the .partial with complete=false. A second call does nothing.
    void finish(bool complete) override;

    // The datasets encode() fills chunks for, in record.encoded's order, each
    // with its chunk shape: a record's chunks are, per dataset, those at
    // [point, replication, t, 0...] for t = 0, chunk[2], 2 chunk[2], ... (merge reads them back so).
    struct ChunkedDataset {
        std::string path;
        std::vector<std::uint64_t> chunk;
    };
    std::vector<ChunkedDataset> chunked_datasets() const;
    std::uint64_t times() const;

    const std::filesystem::path& final_path() const;
    const std::filesystem::path& partial_path() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace entangle
