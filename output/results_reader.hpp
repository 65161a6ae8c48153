#pragma once
// Reading results files back: the summary behind `entangle inspect OUT.h5`
// and a small API for tests and tools. Every function opens the file
// read-only and throws OutputError for a missing file, a file that is not an
// entangle results file, or a missing object.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/record.hpp"
#include "engine/sink.hpp"
#include "engine/sweep.hpp"
#include "output/output_error.hpp"

namespace entangle {

// The records [point * replications + replication] a results file holds, as
// its writer recorded them when it closed the file incomplete (an interrupted
// run); nullopt when it did not (complete, or cut off by a kill).
std::optional<std::vector<bool>> read_written_replications(const std::filesystem::path& file);

// Whether `file` is an HDF5 file (by its signature). False for a missing or unreadable file.
bool is_hdf5_file(const std::filesystem::path& file);
// Whether `file` opens as an entangle results file: what `-o` may replace.
bool is_results_file(const std::filesystem::path& file);

// Root attributes, groups with their datasets (dims, shapes, units), table row
// counts, and per-firm means at the last recorded month for point 0.
std::string describe_results(const std::filesystem::path& file);

// Whole datasets, flattened in C order ("/firm/cash", "/coords/time").
std::vector<double> read_dataset_double(const std::filesystem::path& file, const std::string& dataset);
std::vector<std::string> read_dataset_strings(const std::filesystem::path& file, const std::string& dataset);
std::vector<std::uint64_t> read_shape(const std::filesystem::path& file, const std::string& dataset);
// Dimension names as h5netcdf/xarray sees them: the attached scales' names
// ("" for an axis without one); a scale's own dims are its name.
std::vector<std::string> read_dims(const std::filesystem::path& file, const std::string& dataset);

std::string read_attribute_string(const std::filesystem::path& file, const std::string& object,
                                  const std::string& name);
// Integer or bool attribute (seed, complete).
std::uint64_t read_attribute_uint(const std::filesystem::path& file, const std::string& object,
                                  const std::string& name);
std::string read_root_attribute_string(const std::filesystem::path& file, const std::string& name);

struct ContractTableRow {
    std::uint32_t point = 0, replication = 0;
    ContractRow row;
};
struct EventTableRow {
    std::uint32_t point = 0, replication = 0;
    EventRow row;
};
std::vector<ContractTableRow> read_contracts(const std::filesystem::path& file);
std::vector<EventTableRow> read_events(const std::filesystem::path& file);
// The widths of the tables' fixed-length text columns (0: variable-length),
// as TableTextBounds: what a writer needs to store the same rows the same way.
TableTextBounds read_table_text_bounds(const std::filesystem::path& file);

// The layout a results file was written with: what a writer needs to create
// a file of the same shape (merge). Root attributes other than the standard
// ones are returned in RunLayout::attributes.
RunLayout read_layout(const std::filesystem::path& file);

// Reads back what a file stores for one (point, replication or statistic):
// the stored (compressed) chunks of `datasets` as ResultsWriter::encode makes
// them, the drawn values and the table rows. For merging shards and resuming
// a run: no decompression. The file's table keys are held in memory while it is open.
class StoredRecordReader {
public:
    struct ChunkedDataset {
        std::string path;
        std::vector<std::uint64_t> chunk;
    };
    StoredRecordReader(const std::filesystem::path& file, std::vector<ChunkedDataset> datasets, std::uint64_t times);
    ~StoredRecordReader();
    StoredRecordReader(StoredRecordReader&&) noexcept;
    // Throws OutputError for a chunk that was never written or is stored differently.
    ReplicationRecord read(std::uint32_t point, std::uint32_t replication);
    // The values of `dataset` ("/firm/cash") at one (point, time) for the
    // replications before `replications`, decompressed: [replication][firm]
    // (or chip), [replication] for /market.
    std::vector<double> values_at(const std::string& dataset, std::uint32_t point, std::uint64_t time,
                                  std::uint32_t replications);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace entangle
