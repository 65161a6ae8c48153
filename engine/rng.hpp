#pragma once
// Random streams keyed by identity and purpose, never by thread or visiting
// order: a stream is a Boost mt19937_64 seeded from a hash of
// (seed, point, replication, owner name, purpose). Adding a firm or a draw in
// one mechanism cannot shift any other stream.
#include <boost/random/mersenne_twister.hpp>
#include <cstdint>
#include <optional>
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

// The stream make_stream(key, owner, purpose) would give, seeded on its first
// draw: seeding fills the engine's 312 words, more work than many streams ever
// see (a region nobody builds in, a lab that never nears the AGI threshold).
class DeferredStream {
public:
    DeferredStream() = default;
    DeferredStream(const StreamKey& key, std::string_view owner, std::string_view purpose)
        : seed_(stream_seed(key, owner, purpose)) {}
    RandomEngine& engine() {
        if (!engine_) engine_.emplace(seed_);
        return *engine_;
    }

private:
    std::uint64_t seed_ = 0;
    std::optional<RandomEngine> engine_;
};

// Draws pinned to Boost.Random's algorithms (not std::, whose distributions
// differ between standard libraries).
double draw_standard_normal(RandomEngine& engine);
double draw_uniform01(RandomEngine& engine);
inline double draw_standard_normal(DeferredStream& stream) { return draw_standard_normal(stream.engine()); }
inline double draw_uniform01(DeferredStream& stream) { return draw_uniform01(stream.engine()); }

}  // namespace entangle
