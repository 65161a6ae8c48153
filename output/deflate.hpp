#pragma once
// Private to output/: deflate (zlib streams, RFC 1950) by libdeflate rather
// than zlib. On the shuffled series and table rows entangle writes it takes
// ~60% fewer instructions than zlib at the same level and its output is ~1%
// smaller (benchmarks/README.md, 2026-11-29); any zlib reads it (h5py,
// xarray, netCDF: nothing new to install). The bytes differ from zlib's, the
// data do not.
#include <cstddef>
#include <vector>

namespace entangle::h5 {

// Compresses `in` into `out` (resized to fit) at `level` (0..9); returns the
// compressed size. Thread-safe: a compressor per thread, set up once.
std::size_t zlib_compress(const unsigned char* in, std::size_t n, int level, std::vector<unsigned char>& out);

}  // namespace entangle::h5
