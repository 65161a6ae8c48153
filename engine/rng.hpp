#pragma once
// Random streams keyed by identity and purpose, never by thread or visiting
// order: a stream is a Boost mt19937_64 seeded from a hash of
// (seed, point, replication, owner name, purpose). Adding a firm or a draw in
// one mechanism cannot shift any other stream.
#include <boost/random/mersenne_twister.hpp>
#include <cstdint>
#include <string_view>

namespace entangle {

using RandomEngine = boost::random::mt19937_64;

struct StreamKey {
    std::uint64_t seed = 0;
    std::uint64_t point = 0;
    std::uint64_t replication = 0;
};

// Stable across platforms and releases: FNV-1a over the bytes, SplitMix64 finaliser.
std::uint64_t stream_seed(const StreamKey& key, std::string_view owner, std::string_view purpose);
RandomEngine make_stream(const StreamKey& key, std::string_view owner, std::string_view purpose);

// Draws pinned to Boost.Random's algorithms (not std::, whose distributions
// differ between standard libraries).
double draw_standard_normal(RandomEngine& engine);
double draw_uniform01(RandomEngine& engine);

}  // namespace entangle
