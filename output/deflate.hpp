#pragma once
// Private to output/: deflate (zlib streams, RFC 1950) by libdeflate rather
// than zlib. On the shuffled series and table rows entangle writes it takes
// ~60% fewer instructions than zlib at the same level and its output is ~1%
// smaller (benchmarks/README.md, 2026-11-29); any zlib reads it (h5py,
// xarray, netCDF: nothing new to install). The bytes differ from zlib's, the
// data do not.
#include <cstddef>
#include <optional>
#include <vector>

namespace entangle::h5 {

// Compresses `in` into `out` (resized to fit) at `level` (0..9); returns the
// compressed size. Thread-safe: a compressor per thread, set up once.
std::size_t zlib_compress(const unsigned char* in, std::size_t n, int level, std::vector<unsigned char>& out);

// The same into out[0, capacity): capacity at least zlib_compress_bound(n, level).
std::size_t zlib_compress_bound(std::size_t n, int level);
std::size_t zlib_compress(const unsigned char* in, std::size_t n, int level, unsigned char* out, std::size_t capacity);
// Decodes a whole zlib stream into out[0, capacity) and returns its size, or
// nothing when it needs more room. Throws OutputError for a damaged stream.
std::optional<std::size_t> zlib_decompress(const unsigned char* in, std::size_t n, unsigned char* out,
                                           std::size_t capacity);

// The same for a chunk HDF5's shuffle filter laid out as `planes` byte planes
// of `plane_bytes` bytes each (byte 0 of every element first: for
// little-endian numbers the lowest mantissa byte), coded plane by plane by
// what each one holds: the leading planes that are close to noise (the low
// mantissa bytes of float64 series) as stored deflate blocks or as
// Huffman-only blocks (literals, no matches: a code fitted to their bytes),
// the rest (exponent and high mantissa bytes, with repeats) by libdeflate at
// `level`. One standard zlib stream (any inflate decodes it); searching the
// noise planes for matches was most of the instructions and saved ~nothing
// (benchmarks/README.md, "Sweep writing, session 5").
std::size_t zlib_compress_planes(const unsigned char* in, std::size_t plane_bytes, std::size_t planes, int level,
                                 std::vector<unsigned char>& out);

}  // namespace entangle::h5
