// output/deflate: the zlib streams the writer stores for HDF5's deflate
// filter, decoded here by zlib itself (what HDF5, h5py and xarray read them with).
#include <doctest/doctest.h>
#include <zlib.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "output/deflate.hpp"

using namespace entangle;

namespace {

// HDF5's shuffle of `elements` values of T: byte b of element j at b * n + j.
template <typename T>
std::vector<unsigned char> shuffled(const std::vector<T>& values) {
    const std::size_t n = values.size();
    std::vector<unsigned char> out(n * sizeof(T));
    for (std::size_t j = 0; j < n; ++j) {
        unsigned char bytes[sizeof(T)];
        std::memcpy(bytes, &values[j], sizeof(T));
        for (std::size_t b = 0; b < sizeof(T); ++b) out[b * n + j] = bytes[b];
    }
    return out;
}

// zlib's inflate of a whole stream (header, blocks, Adler-32 checked) into exactly `size` bytes.
std::vector<unsigned char> inflate_all(const std::vector<unsigned char>& stream, std::size_t stream_size,
                                       std::size_t size) {
    std::vector<unsigned char> out(size + 1);
    uLongf out_size = static_cast<uLongf>(out.size());
    const int rc = ::uncompress(out.data(), &out_size, stream.data(), static_cast<uLong>(stream_size));
    REQUIRE(rc == Z_OK);
    out.resize(out_size);
    return out;
}

struct Coded {
    std::size_t size;  // bytes of the zlib stream
    bool round_trip;   // zlib decodes it to the input
};

Coded code_planes(const std::vector<unsigned char>& in, std::size_t planes, int level = 1) {
    std::vector<unsigned char> out;
    const std::size_t size = h5::zlib_compress_planes(in.data(), in.size() / planes, planes, level, out);
    REQUIRE(size <= out.size());
    return {size, inflate_all(out, size, in.size()) == in};
}

// Stored deflate blocks cost 5 bytes per 65 535; the zlib header and Adler-32 6; the final block 2.
std::size_t stored_size(std::size_t n) { return n + 5 * ((n + 65534) / 65535) + 6 + 2 + 5; }

}  // namespace

TEST_CASE("zlib_compress_planes: zlib decodes every kind of chunk to the same bytes") {
    std::mt19937_64 gen(20261129);
    std::uniform_real_distribution<double> uniform(0.0, 1e9);

    SUBCASE("noise in every plane: stored blocks only, and no bigger than storing") {
        std::vector<unsigned char> in(8 * 1536);
        for (unsigned char& b : in) b = static_cast<unsigned char>(gen());
        const Coded c = code_planes(in, 8);
        CHECK(c.round_trip);
        CHECK(c.size <= stored_size(in.size()));
    }
    SUBCASE("series with exact zeros: noise planes Huffman-coded, the exponent planes by libdeflate") {
        std::vector<double> values(16 * 96);
        for (double& v : values) v = (gen() % 10 < 4) ? 0.0 : uniform(gen);
        const std::vector<unsigned char> in = shuffled(values);
        const Coded c = code_planes(in, 8);
        CHECK(c.round_trip);
        // Six low planes of 40% zeros and 60% noise, ~5.8 bits a byte (storing them alone would be
        // 0.75 of the chunk); the two high ones compress well.
        CHECK(c.size < 0.7 * static_cast<double>(in.size()));
        std::vector<unsigned char> whole;
        const std::size_t libdeflate_size = h5::zlib_compress(in.data(), in.size(), 1, whole);
        CHECK(c.size < 1.02 * static_cast<double>(libdeflate_size));  // no worse than libdeflate on all of it
    }
    SUBCASE("planes longer than a stored block (65 535 bytes)") {
        std::vector<double> values(100000);
        for (double& v : values) v = uniform(gen);
        const Coded c = code_planes(shuffled(values), 8);
        CHECK(c.round_trip);
        CHECK(c.size < stored_size(values.size() * 8));
    }
    SUBCASE("a skewed plane whose Huffman code needs lengths cut to 15 bits") {
        // 300 000 bytes: 200 values equally often, 20 values once or a few times (an
        // unlimited Huffman code would give them ~18 bits), the rest absent.
        std::vector<unsigned char> plane;
        for (int i = 0; i < 300000; ++i) plane.push_back(static_cast<unsigned char>(gen() % 200));
        for (int s = 0; s < 20; ++s)
            for (int k = 0; k <= s % 3; ++k) plane[static_cast<std::size_t>(gen() % plane.size())] = static_cast<unsigned char>(200 + s);
        const Coded c = code_planes(plane, 1);
        CHECK(c.round_trip);
        CHECK(c.size < 0.97 * static_cast<double>(plane.size()));  // log2(200) / 8 = 0.955
    }
    SUBCASE("all zeros, constants, NaN fill: libdeflate codes every plane") {
        const std::vector<double> zeros(1536, 0.0);
        Coded c = code_planes(shuffled(zeros), 8);
        CHECK(c.round_trip);
        CHECK(c.size < 100);
        const std::vector<double> nan(1536, std::nan(""));
        c = code_planes(shuffled(nan), 8);
        CHECK(c.round_trip);
        CHECK(c.size < 100);
    }
    SUBCASE("float32 planes, tiny planes, one plane") {
        std::vector<float> floats(5 * 16);
        for (float& f : floats) f = static_cast<float>(uniform(gen));
        CHECK(code_planes(shuffled(floats), 4).round_trip);
        for (const std::size_t bytes : {1u, 2u, 3u, 7u, 96u}) {
            CAPTURE(bytes);
            std::vector<unsigned char> in(bytes * 8);
            for (unsigned char& b : in) b = static_cast<unsigned char>(gen());
            CHECK(code_planes(in, 8).round_trip);
            CHECK(code_planes(in, 1).round_trip);
        }
    }
    SUBCASE("every level") {
        std::vector<double> values(16 * 96);
        for (double& v : values) v = (gen() % 10 < 2) ? 0.0 : std::round(uniform(gen));
        const std::vector<unsigned char> in = shuffled(values);
        for (int level = 1; level <= 9; ++level) {
            CAPTURE(level);
            CHECK(code_planes(in, 8, level).round_trip);
        }
    }
}

TEST_CASE("zlib_compress_planes: random chunks of every mix of noise, skew and repeats round-trip through zlib") {
    // Each plane drawn from one of several byte sources, so that the coder's
    // choices (stored, Huffman-only, grouped or not, libdeflate) meet in every
    // order and at every size, including the edges of a stored block.
    std::mt19937_64 gen(7);
    const auto plane_bytes_of = [&](int trial) -> std::size_t {
        static const std::size_t edges[] = {1, 2, 255, 256, 65534, 65535, 65536, 131071};
        return trial % 4 == 0 ? edges[(trial / 4) % 8] : 1 + gen() % 20000;
    };
    int round_trips = 0, trials = 0;
    for (int trial = 0; trial < 160; ++trial) {
        const std::size_t plane_bytes = plane_bytes_of(trial);
        const std::size_t planes = 1 + gen() % 8;
        std::vector<unsigned char> in(plane_bytes * planes);
        for (std::size_t p = 0; p < planes; ++p) {
            unsigned char* plane = in.data() + p * plane_bytes;
            const int source = static_cast<int>(gen() % 6);
            std::geometric_distribution<int> skew(source == 3 ? 0.02 : 0.5);
            for (std::size_t i = 0; i < plane_bytes; ++i) {
                switch (source) {
                    case 0: plane[i] = static_cast<unsigned char>(gen()); break;                      // noise
                    case 1: plane[i] = gen() % 10 < 4 ? 0 : static_cast<unsigned char>(gen()); break;  // zeros and noise
                    case 2: plane[i] = static_cast<unsigned char>(std::min(skew(gen), 255)); break;    // steep skew
                    case 3: plane[i] = static_cast<unsigned char>(std::min(skew(gen), 255)); break;    // gentle skew
                    case 4: plane[i] = static_cast<unsigned char>(0x40 + gen() % 3); break;            // exponent-like
                    default: plane[i] = static_cast<unsigned char>(i / 97); break;                     // runs
                }
            }
        }
        const int level = 1 + static_cast<int>(gen() % 9);
        const Coded c = code_planes(in, planes, level);
        ++trials;
        round_trips += c.round_trip ? 1 : 0;
        CHECK(c.size <= stored_size(in.size()) + 5 * planes);  // never much worse than storing
    }
    CHECK(round_trips == trials);
}
