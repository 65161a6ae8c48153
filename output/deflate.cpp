#include "output/deflate.hpp"

#include <libdeflate.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>

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

class Inflater {
public:
    Inflater() : decompressor_(libdeflate_alloc_decompressor()) {
        if (!decompressor_) throw OutputError("cannot set up deflate decompression");
    }
    Inflater(const Inflater&) = delete;
    Inflater& operator=(const Inflater&) = delete;
    ~Inflater() { libdeflate_free_decompressor(decompressor_); }
    libdeflate_decompressor* get() { return decompressor_; }

private:
    libdeflate_decompressor* decompressor_;
};

Inflater& thread_inflater() {
    thread_local Inflater inflater;  // as thread_deflater()
    return inflater;
}

// ---- Deflate blocks written by hand (RFC 1951): stored and Huffman-only. ----

constexpr std::size_t max_stored_block = 65535;
constexpr int literal_symbols = 257;  // bytes 0..255 and end-of-block (256); no match lengths
constexpr int end_of_block = 256;
constexpr int max_literal_bits = 15;
constexpr int code_length_symbols = 19;
constexpr int max_code_length_bits = 7;
// The order in which a dynamic block's header gives the code-length code's lengths.
constexpr std::array<int, code_length_symbols> code_length_order = {16, 17, 18, 0, 8,  7, 9,  6, 10, 5,
                                                                    11, 4,  12, 3, 13, 2, 14, 1, 15};

// Bits, least significant first, as deflate packs them.
class BitWriter {
public:
    explicit BitWriter(unsigned char* out) : begin_(out), out_(out) {}
    void put(std::uint32_t bits, int n) {  // n <= 32
        buffer_ |= std::uint64_t{bits} << count_;
        count_ += n;
        if (count_ >= 32) {
            const auto word = static_cast<std::uint32_t>(buffer_);
            std::memcpy(out_, &word, 4);  // little-endian host (the writer encodes only there)
            out_ += 4;
            buffer_ >>= 32;
            count_ -= 32;
        }
    }
    bool aligned() const { return count_ % 8 == 0; }
    // Pads with zero bits to a byte boundary and writes out what is pending.
    void align() {
        count_ = (count_ + 7) / 8 * 8;
        for (; count_ > 0; count_ -= 8, buffer_ >>= 8) *out_++ = static_cast<unsigned char>(buffer_);
        buffer_ = 0;
    }
    void bytes(const unsigned char* data, std::size_t n) {  // after align()
        std::memcpy(out_, data, n);
        out_ += n;
    }
    // Each byte of data as the code table[byte] (code | length << 16, lengths
    // at most 15): three codes (four when none is longer than 14 bits: 7
    // pending + 56 <= 64), then the whole bytes out with one 8-byte store
    // (the buffer must have 8 bytes of room past the codes). In locals, as
    // the stores through unsigned char* would make the compiler reload members.
    void codes(const unsigned char* data, std::size_t n, const std::uint32_t* table, int longest) {
        std::uint64_t buffer = buffer_;
        int count = count_;
        unsigned char* out = out_;
        const auto flush_bytes = [&] {
            std::memcpy(out, &buffer, 8);
            out += count >> 3;
            buffer >>= count & ~7;
            count &= 7;
        };
        const auto code = [&](std::uint32_t c) {
            buffer |= std::uint64_t{c & 0xffffu} << count;
            count += static_cast<int>(c >> 16);
        };
        flush_bytes();  // count < 32 -> < 8: room for three codes of 15 bits
        std::size_t i = 0;
        if (longest <= 14)
            for (; i + 4 <= n; i += 4) {
                code(table[data[i]]);
                code(table[data[i + 1]]);
                code(table[data[i + 2]]);
                code(table[data[i + 3]]);
                flush_bytes();
            }
        for (; i + 3 <= n; i += 3) {
            code(table[data[i]]);
            code(table[data[i + 1]]);
            code(table[data[i + 2]]);
            flush_bytes();
        }
        for (; i < n; ++i) {
            code(table[data[i]]);
            flush_bytes();
        }
        buffer_ = buffer;
        count_ = count;
        out_ = out;
    }
    std::size_t size() const { return static_cast<std::size_t>(out_ - begin_); }
    unsigned char* at() { return out_; }  // after align()
    void skip(std::size_t n) { out_ += n; }

private:
    unsigned char* begin_;
    unsigned char* out_;
    std::uint64_t buffer_ = 0;
    int count_ = 0;
};

// Stored blocks of `data` (non-final): header bits, then LEN, NLEN and the bytes at a byte boundary.
void put_stored(BitWriter& w, const unsigned char* data, std::size_t n) {
    do {
        const std::size_t len = std::min(n, max_stored_block);
        w.put(0, 3);  // BFINAL 0, BTYPE 00
        w.align();
        const unsigned char lengths[4] = {static_cast<unsigned char>(len), static_cast<unsigned char>(len >> 8),
                                          static_cast<unsigned char>(~len), static_cast<unsigned char>(~len >> 8)};
        w.bytes(lengths, 4);
        w.bytes(data, len);
        data += len;
        n -= len;
    } while (n > 0);
}

std::size_t stored_bytes(std::size_t n) { return n + 5 * std::max<std::size_t>(1, (n + max_stored_block - 1) / max_stored_block); }

// Code lengths of a minimum-redundancy prefix code of at most max_bits bits
// for symbols 0..n-1 with frequencies freq (n <= 288); 0 for an unused
// symbol. At least two symbols get a code, as zlib's deflate does (inflate
// rejects a code-length code of one symbol).
void code_lengths(const std::uint32_t* freq, int n, int max_bits, std::uint8_t* lengths) {
    std::array<std::pair<std::uint32_t, std::uint16_t>, 288> used{};  // (frequency, symbol), rarest first
    int m = 0;
    for (int s = 0; s < n; ++s) {
        lengths[s] = 0;
        if (freq[s] > 0) used[static_cast<std::size_t>(m++)] = {freq[s], static_cast<std::uint16_t>(s)};
    }
    for (int s = 0; m < 2; ++s)
        if (freq[s] == 0) used[static_cast<std::size_t>(m++)] = {1, static_cast<std::uint16_t>(s)};
    std::sort(used.begin(), used.begin() + m);
    // Moffat and Katajainen's in-place computation of Huffman code lengths
    // ("In-place calculation of minimum-redundancy codes", 1995).
    std::array<std::uint32_t, 288> a{};
    for (int i = 0; i < m; ++i) a[static_cast<std::size_t>(i)] = used[static_cast<std::size_t>(i)].first;
    {
        int root = 0, leaf = 2;
        a[0] += a[1];
        for (int next = 1; next < m - 1; ++next) {
            if (leaf >= m || a[root] < a[leaf]) {
                a[next] = a[root];
                a[root++] = static_cast<std::uint32_t>(next);
            } else {
                a[next] = a[leaf++];
            }
            if (leaf >= m || (root < next && a[root] < a[leaf])) {
                a[next] += a[root];
                a[root++] = static_cast<std::uint32_t>(next);
            } else {
                a[next] += a[leaf++];
            }
        }
        a[m - 2] = 0;
        for (int next = m - 3; next >= 0; --next) a[next] = a[a[next]] + 1;
        int available = 1, used_nodes = 0, depth = 0, next = m - 1;
        root = m - 2;
        while (available > 0) {
            while (root >= 0 && static_cast<int>(a[root]) == depth) ++used_nodes, --root;
            while (available > used_nodes) a[next--] = static_cast<std::uint32_t>(depth), --available;
            available = 2 * used_nodes;
            ++depth;
            used_nodes = 0;
        }
    }
    // Symbols per length, limited to max_bits and made a complete code again
    // (miniz's tdefl_huffman_enforce_max_code_size), then handed out: the
    // rarest symbols get the longest codes.
    std::array<int, 33> count{};
    for (int i = 0; i < m; ++i) ++count[std::min<std::size_t>(a[static_cast<std::size_t>(i)], static_cast<std::size_t>(max_bits))];
    std::uint32_t kraft = 0;
    for (int len = max_bits; len > 0; --len) kraft += static_cast<std::uint32_t>(count[len]) << (max_bits - len);
    while (kraft != (std::uint32_t{1} << max_bits)) {
        --count[max_bits];
        for (int len = max_bits - 1; len > 0; --len)
            if (count[len] != 0) {
                --count[len];
                count[len + 1] += 2;
                break;
            }
        --kraft;
    }
    int next = 0;
    for (int len = max_bits; len > 0; --len)
        for (int k = 0; k < count[len]; ++k) lengths[used[static_cast<std::size_t>(next++)].second] = static_cast<std::uint8_t>(len);
}

// Canonical codes for `lengths` (RFC 1951 3.2.2), bit-reversed for BitWriter.
void canonical_codes(const std::uint8_t* lengths, int n, std::uint32_t* codes) {
    std::array<std::uint32_t, 17> count{}, next{};
    for (int s = 0; s < n; ++s) ++count[lengths[s]];
    count[0] = 0;
    std::uint32_t code = 0;
    for (int len = 1; len <= 16; ++len) {
        code = (code + count[len - 1]) << 1;
        next[len] = code;
    }
    for (int s = 0; s < n; ++s) {
        const int len = lengths[s];
        if (len == 0) continue;
        std::uint32_t c = next[len]++;  // reversed as 16 bits, then shifted down to len bits
        c = ((c & 0x5555u) << 1) | ((c >> 1) & 0x5555u);
        c = ((c & 0x3333u) << 2) | ((c >> 2) & 0x3333u);
        c = ((c & 0x0f0fu) << 4) | ((c >> 4) & 0x0f0fu);
        c = ((c & 0x00ffu) << 8) | ((c >> 8) & 0x00ffu);
        codes[s] = c >> (16 - len);
    }
}


// A Huffman-only block (BTYPE 10, literals and end-of-block, no matches) for
// a run of planes, planned from their byte counts: its exact size is known
// before a bit is written, so it is used only where it beats storing.
class LiteralBlock {
public:
    explicit LiteralBlock(const std::uint32_t* byte_counts) {
        std::array<std::uint32_t, literal_symbols> freq{};
        std::copy(byte_counts, byte_counts + 256, freq.begin());
        freq[end_of_block] = 1;
        code_lengths(freq.data(), literal_symbols, max_literal_bits, literal_lengths_.data());
        canonical_codes(literal_lengths_.data(), literal_symbols, literal_codes_.data());
        for (int s = 0; s < literal_symbols; ++s)  // code | length << 16: one load per byte written
            literal_codes_[static_cast<std::size_t>(s)] |= std::uint32_t{literal_lengths_[static_cast<std::size_t>(s)]} << 16;
        // The code lengths of the literal code, then of two one-bit distance
        // codes (none is used; zlib's deflate also writes two), run-length coded.
        std::array<std::uint8_t, literal_symbols + 2> all{};
        std::copy(literal_lengths_.begin(), literal_lengths_.end(), all.begin());
        all[literal_symbols] = all[literal_symbols + 1] = 1;
        for (std::size_t i = 0; i < all.size();) {
            const std::uint8_t len = all[i];
            std::size_t run = 1;
            while (i + run < all.size() && all[i + run] == len) ++run;
            i += run;
            if (len == 0) {
                while (run >= 11) {
                    const std::size_t r = std::min<std::size_t>(run, 138);
                    add(18, static_cast<std::uint8_t>(r - 11));
                    run -= r;
                }
                if (run >= 3) add(17, static_cast<std::uint8_t>(run - 3)), run = 0;
            } else {
                add(len, 0), --run;
                while (run >= 3) {
                    const std::size_t r = std::min<std::size_t>(run, 6);
                    add(16, static_cast<std::uint8_t>(r - 3));
                    run -= r;
                }
            }
            for (; run > 0; --run) add(len, 0);
        }
        std::array<std::uint32_t, code_length_symbols> cl_freq{};
        for (int i = 0; i < header_symbols_; ++i) ++cl_freq[header_[static_cast<std::size_t>(i)].first];
        code_lengths(cl_freq.data(), code_length_symbols, max_code_length_bits, cl_lengths_.data());
        canonical_codes(cl_lengths_.data(), code_length_symbols, cl_codes_.data());
        cl_count_ = code_length_symbols;
        while (cl_count_ > 4 && cl_lengths_[static_cast<std::size_t>(code_length_order[static_cast<std::size_t>(cl_count_ - 1)])] == 0) --cl_count_;
        bits_ = 3 + 5 + 5 + 4 + 3 * static_cast<std::uint64_t>(cl_count_) + literal_lengths_[end_of_block];
        for (int i = 0; i < header_symbols_; ++i) {
            const std::uint8_t s = header_[static_cast<std::size_t>(i)].first;
            bits_ += cl_lengths_[s] + extra_bits(s);
        }
        for (int b = 0; b < 256; ++b) bits_ += std::uint64_t{byte_counts[b]} * literal_lengths_[static_cast<std::size_t>(b)];
    }
    std::uint64_t bits() const { return bits_; }  // the whole block, header to end-of-block

    void write(BitWriter& w, const unsigned char* data, std::size_t n) const {
        w.put(0b100, 3);  // BFINAL 0, BTYPE 10 (dynamic Huffman codes)
        w.put(literal_symbols - 257, 5);
        w.put(2 - 1, 5);
        w.put(static_cast<std::uint32_t>(cl_count_ - 4), 4);
        for (int i = 0; i < cl_count_; ++i) w.put(cl_lengths_[static_cast<std::size_t>(code_length_order[static_cast<std::size_t>(i)])], 3);
        for (int i = 0; i < header_symbols_; ++i) {
            const auto [s, extra] = header_[static_cast<std::size_t>(i)];
            w.put(cl_codes_[s], cl_lengths_[s]);
            if (s >= 16) w.put(extra, extra_bits(s));
        }
        w.codes(data, n, literal_codes_.data(),
                *std::max_element(literal_lengths_.begin(), literal_lengths_.begin() + 256));
        w.put(literal_codes_[end_of_block] & 0xffffu, literal_lengths_[end_of_block]);
    }

private:
    static int extra_bits(std::uint8_t s) { return s == 16 ? 2 : s == 17 ? 3 : s == 18 ? 7 : 0; }
    void add(std::uint8_t symbol, std::uint8_t extra) { header_[static_cast<std::size_t>(header_symbols_++)] = {symbol, extra}; }

    std::array<std::uint8_t, literal_symbols> literal_lengths_{};
    std::array<std::uint32_t, literal_symbols> literal_codes_{};  // code | length << 16
    std::array<std::pair<std::uint8_t, std::uint8_t>, literal_symbols + 2> header_{};  // (code-length symbol, extra bits)
    int header_symbols_ = 0;
    std::array<std::uint8_t, code_length_symbols> cl_lengths_{};
    std::array<std::uint32_t, code_length_symbols> cl_codes_{};
    int cl_count_ = 0;
    std::uint64_t bits_ = 0;
};

// log2(x) for x >= 1 to within ~0.01: enough to tell noise from structure.
float approximate_log2(float x) {
    const auto bits = std::bit_cast<std::uint32_t>(x);
    const float exponent = static_cast<float>(static_cast<int>(bits >> 23) - 127);
    const float m = std::bit_cast<float>((bits & 0x007fffffu) | 0x3f800000u);  // in [1, 2)
    return exponent + (-0.34484843f * m + 2.02466578f) * m - 0.67487759f;
}

// Order-0 entropy, bits per byte, of n bytes with these counts.
float entropy_per_byte(const std::uint32_t* counts, std::size_t n) {
    // c log2 c for the small counts of noise planes: a constant, computed once.
    constexpr std::uint32_t tabulated = 1024;
    static const std::array<float, tabulated> c_log2_c = [] {
        std::array<float, tabulated> t{};
        for (std::uint32_t c = 1; c < tabulated; ++c) t[c] = static_cast<float>(c * std::log2(static_cast<double>(c)));
        return t;
    }();
    float sum = 0;  // of c log2 c
    for (int b = 0; b < 256; ++b) {
        const std::uint32_t c = counts[b];
        sum += c < tabulated ? c_log2_c[c] : static_cast<float>(c) * approximate_log2(static_cast<float>(c));
    }
    const auto total = static_cast<float>(n);
    return approximate_log2(total) - sum / total;
}

// Planes with fewer bits of order-0 entropy per byte than this have
// structure (runs, repeats) that matches find: libdeflate codes them and
// every plane after them. The low mantissa bytes of the baseline's series
// have 5.6-7.8 bits, their exponent bytes 0.5-2.8 (benchmarks/README.md).
constexpr float structured_below_bits = 4.5f;
// Consecutive noise planes whose entropies differ by less than this share one Huffman block.
constexpr float same_block_within_bits = 0.5f;
// A Huffman-only block is used when it is at least this much smaller than storing the bytes.
constexpr double huffman_if_below_stored = 0.97;

}  // namespace

std::size_t zlib_compress_bound(std::size_t n, int level) {
    return libdeflate_zlib_compress_bound(thread_deflater().at_level(level), n);
}

std::size_t zlib_compress(const unsigned char* in, std::size_t n, int level, unsigned char* out, std::size_t capacity) {
    const std::size_t size = libdeflate_zlib_compress(thread_deflater().at_level(level), in, n, out, capacity);
    if (size == 0) throw OutputError("cannot compress a chunk of " + std::to_string(n) + " bytes");
    return size;
}

std::size_t zlib_compress(const unsigned char* in, std::size_t n, int level, std::vector<unsigned char>& out) {
    out.resize(zlib_compress_bound(n, level));
    return zlib_compress(in, n, level, out.data(), out.size());
}

std::optional<std::size_t> zlib_decompress(const unsigned char* in, std::size_t n, unsigned char* out,
                                           std::size_t capacity) {
    std::size_t size = 0;
    switch (libdeflate_zlib_decompress(thread_inflater().get(), in, n, out, capacity, &size)) {
        case LIBDEFLATE_SUCCESS:
            return size;
        case LIBDEFLATE_INSUFFICIENT_SPACE:
            return std::nullopt;
        default:
            throw OutputError("a compressed chunk of " + std::to_string(n) + " bytes is damaged");
    }
}

std::size_t zlib_compress_planes(const unsigned char* in, std::size_t plane_bytes, std::size_t planes, int level,
                                 std::vector<unsigned char>& out) {
    constexpr std::size_t max_planes = 16;
    const std::size_t n = plane_bytes * planes;
    if (planes == 0 || planes > max_planes || plane_bytes == 0) return zlib_compress(in, n, level, out);
    libdeflate_compressor* compressor = thread_deflater().at_level(level);

    // Each plane's byte counts and entropy, up to the first structured plane.
    std::array<std::array<std::uint32_t, 256>, max_planes> counts;
    std::array<float, max_planes> entropy{};
    std::size_t noise_planes = 0;
    for (; noise_planes < planes; ++noise_planes) {
        std::uint32_t* c = counts[noise_planes].data();
        std::fill(c, c + 256, 0u);
        const unsigned char* plane = in + noise_planes * plane_bytes;
        std::size_t i = 0;
        for (; i + 8 <= plane_bytes; i += 8) {  // eight bytes a load
            std::uint64_t v;
            std::memcpy(&v, plane + i, 8);
            for (int k = 0; k < 8; ++k, v >>= 8) ++c[v & 0xffu];
        }
        for (; i < plane_bytes; ++i) ++c[plane[i]];
        entropy[noise_planes] = entropy_per_byte(c, plane_bytes);
        if (entropy[noise_planes] < structured_below_bits) break;
    }
    const std::size_t noise_bytes = noise_planes * plane_bytes;
    const std::size_t rest = n - noise_bytes;

    // Bound: noise planes at most stored (+ the headers of up to one block per
    // plane), an empty stored block to byte-align, libdeflate's bound, the
    // final empty block, 2 + 4 bytes of zlib header and Adler-32, slack for
    // BitWriter's 4-byte writes.
    out.resize(2 + stored_bytes(noise_bytes) + planes * (5 + 320) + 5 +
               (rest > 0 ? libdeflate_deflate_compress_bound(compressor, rest) : 0) + 2 + 4 + 8);
    BitWriter w(out.data());
    w.put(0x0178, 16);  // CMF 0x78 (deflate, 32 KiB window), FLG 0x01 (fastest; (0x78 << 8 | 0x01) % 31 == 0)

    for (std::size_t first = 0; first < noise_planes;) {
        std::size_t last = first + 1;
        while (last < noise_planes && std::abs(entropy[last] - entropy[first]) < same_block_within_bits) ++last;
        const unsigned char* data = in + first * plane_bytes;
        const std::size_t bytes = (last - first) * plane_bytes;
        // No prefix code beats the entropy of the planes together, which is at
        // least their mean (to within the estimate's 0.02 bits): noise is stored at once.
        float mean_entropy = 0;
        for (std::size_t p = first; p < last; ++p) mean_entropy += entropy[p] / static_cast<float>(last - first);
        if (mean_entropy - 0.02f >= huffman_if_below_stored * 8.0) {
            put_stored(w, data, bytes);
            first = last;
            continue;
        }
        std::array<std::uint32_t, 256> sum = counts[first];
        for (std::size_t p = first + 1; p < last; ++p)
            for (std::size_t b = 0; b < 256; ++b) sum[b] += counts[p][b];
        const LiteralBlock block(sum.data());
        if (static_cast<double>(block.bits()) < huffman_if_below_stored * 8.0 * static_cast<double>(stored_bytes(bytes)))
            block.write(w, data, bytes);
        else
            put_stored(w, data, bytes);
        first = last;
    }
    if (rest > 0) {
        if (!w.aligned()) {
            // An empty stored block: libdeflate's stream starts on a byte boundary.
            w.put(0, 3);
            w.align();
            const unsigned char empty[4] = {0x00, 0x00, 0xff, 0xff};
            w.bytes(empty, 4);
        }
        w.align();
        const std::size_t size =
            libdeflate_deflate_compress(compressor, in + noise_bytes, rest, w.at(), out.size() - w.size() - 4);
        if (size == 0) throw OutputError("cannot compress a chunk of " + std::to_string(n) + " bytes");
        w.skip(size);  // its last block is final
    } else {
        w.put(0b011, 3);  // BFINAL 1, BTYPE 01 (fixed codes), then end-of-block: seven 0 bits
        w.put(0, 7);
        w.align();
    }
    const std::uint32_t adler = libdeflate_adler32(1, in, n);
    const unsigned char trailer[4] = {static_cast<unsigned char>(adler >> 24), static_cast<unsigned char>(adler >> 16),
                                      static_cast<unsigned char>(adler >> 8), static_cast<unsigned char>(adler)};
    w.bytes(trailer, 4);
    return w.size();
}

}  // namespace entangle::h5
