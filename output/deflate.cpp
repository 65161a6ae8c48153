#include "output/deflate.hpp"

#include <libdeflate.h>

#include <string>

#include "output/output_error.hpp"

namespace entangle::h5 {

namespace {

// A compressor's working memory, kept for the next chunk at the same level.
class Deflater {
public:
    Deflater() = default;
    Deflater(const Deflater&) = delete;
    Deflater& operator=(const Deflater&) = delete;
    ~Deflater() {
        if (compressor_) libdeflate_free_compressor(compressor_);
    }
    libdeflate_compressor* at_level(int level) {
        if (!compressor_ || level_ != level) {
            if (compressor_) libdeflate_free_compressor(compressor_);
            compressor_ = libdeflate_alloc_compressor(level);
            level_ = level;
            if (!compressor_) throw OutputError("cannot set up deflate compression at level " + std::to_string(level));
        }
        return compressor_;
    }

private:
    libdeflate_compressor* compressor_ = nullptr;
    int level_ = -1;
};

Deflater& thread_deflater() {
    thread_local Deflater deflater;  // a cache of working memory, one per thread
    return deflater;
}

}  // namespace

std::size_t zlib_compress(const unsigned char* in, std::size_t n, int level, std::vector<unsigned char>& out) {
    libdeflate_compressor* compressor = thread_deflater().at_level(level);
    out.resize(libdeflate_zlib_compress_bound(compressor, n));
    const std::size_t size = libdeflate_zlib_compress(compressor, in, n, out.data(), out.size());
    if (size == 0) throw OutputError("cannot compress a chunk of " + std::to_string(n) + " bytes");
    return size;
}

}  // namespace entangle::h5
