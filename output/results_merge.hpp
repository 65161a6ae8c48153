#pragma once
// `entangle merge`: joins the shard files of one sweep (entangle sweep
// --shard I/N) into one results file in the layout of a single-machine sweep
// (docs/cluster.md). Chunks are copied as stored (no decompression), points
// in ascending order, so the merged file holds the same bytes of data as a
// sweep run in one process.
#include <filesystem>
#include <vector>

#include "output/output_error.hpp"

namespace entangle {

// Shards that do not make one sweep (another sweep, missing or repeated
// points, an incomplete shard): bad input, exit code 2.
class ShardMismatch : public OutputError {
public:
    using OutputError::OutputError;
};

// Writes `out` (through out.partial, renamed when complete). Returns the number of points.
std::size_t merge_shards(const std::vector<std::filesystem::path>& shards, const std::filesystem::path& out);

}  // namespace entangle
