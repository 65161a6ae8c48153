#include "engine/rng.hpp"

#include <boost/random/normal_distribution.hpp>
#include <boost/random/uniform_01.hpp>

namespace entangle {
namespace {
constexpr std::uint64_t fnv_offset = 14695981039346656037ull;
constexpr std::uint64_t fnv_prime = 1099511628211ull;

std::uint64_t fnv1a(std::uint64_t hash, std::string_view bytes) {
    for (unsigned char c : bytes) {
        hash ^= c;
        hash *= fnv_prime;
    }
    // A separator so that ("ab","c") and ("a","bc") differ.
    hash ^= 0xffu;
    hash *= fnv_prime;
    return hash;
}

std::uint64_t fnv1a_u64(std::uint64_t hash, std::uint64_t value) {
    for (int i = 0; i < 8; ++i) {
        hash ^= (value >> (8 * i)) & 0xffu;
        hash *= fnv_prime;
    }
    return hash;
}

std::uint64_t splitmix64(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}
}  // namespace

std::uint64_t stream_seed(const StreamKey& key, std::string_view owner, std::string_view purpose) {
    std::uint64_t h = fnv_offset;
    h = fnv1a_u64(h, key.seed);
    h = fnv1a_u64(h, key.point);
    h = fnv1a_u64(h, key.replication);
    h = fnv1a(h, owner);
    h = fnv1a(h, purpose);
    return splitmix64(h);
}

RandomEngine make_stream(const StreamKey& key, std::string_view owner, std::string_view purpose) {
    return RandomEngine(stream_seed(key, owner, purpose));
}

double draw_standard_normal(RandomEngine& engine) {
    boost::random::normal_distribution<double> normal(0.0, 1.0);
    return normal(engine);
}

double draw_uniform01(RandomEngine& engine) {
    boost::random::uniform_01<double> uniform;
    return uniform(engine);
}

}  // namespace entangle
