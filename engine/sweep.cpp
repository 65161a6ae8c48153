#include "engine/sweep.hpp"

#include <algorithm>
#include <boost/math/distributions/normal.hpp>
#include <boost/random/sobol.hpp>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>

#include "engine/rng.hpp"

namespace entangle {

const char* design_method_name(DesignMethod m) {
    switch (m) {
        case DesignMethod::grid: return "grid";
        case DesignMethod::random: return "random";
        case DesignMethod::lhs: return "lhs";
        case DesignMethod::sobol: return "sobol";
    }
    return "?";
}

namespace {

StreamKey design_key(std::uint64_t seed, std::uint64_t point) { return StreamKey{seed, point, 0}; }

std::uint32_t reverse_bits(std::uint32_t x) {
    x = ((x >> 1) & 0x55555555u) | ((x & 0x55555555u) << 1);
    x = ((x >> 2) & 0x33333333u) | ((x & 0x33333333u) << 2);
    x = ((x >> 4) & 0x0f0f0f0fu) | ((x & 0x0f0f0f0fu) << 4);
    x = ((x >> 8) & 0x00ff00ffu) | ((x & 0x00ff00ffu) << 8);
    return (x >> 16) | (x << 16);
}

// Owen's nested uniform scrambling of a 32-bit Sobol' coordinate, by the
// hash-based Laine-Karras permutation (Burley 2020, "Practical hash-based
// Owen scrambling", JCGT 9(4)): each bit is flipped by a hash of the bits
// above it, so the scrambled points keep the (t, s)-net balance.
std::uint32_t owen_scramble(std::uint32_t x, std::uint32_t seed) {
    x = reverse_bits(x);
    x += seed;
    x ^= x * 0x6c50b47cu;
    x ^= x * 0xb82f1e52u;
    x ^= x * 0xc7afe638u;
    x ^= x * 0x8d22f6e6u;
    return reverse_bits(x);
}

// Fisher-Yates with a keyed stream: a permutation of 0..n-1.
std::vector<std::uint32_t> permutation(std::uint32_t n, RandomEngine& engine) {
    std::vector<std::uint32_t> p(n);
    std::iota(p.begin(), p.end(), 0u);
    for (std::uint32_t i = n; i > 1; --i) {
        const auto j = static_cast<std::uint32_t>(std::min<double>(draw_uniform01(engine) * i, i - 1));
        std::swap(p[i - 1], p[j]);
    }
    return p;
}

}  // namespace

std::vector<double> unit_design(DesignMethod method, std::uint32_t points, std::size_t dims, std::uint64_t seed) {
    std::vector<double> u(static_cast<std::size_t>(points) * dims);
    if (dims == 0) return u;
    switch (method) {
        case DesignMethod::grid:  // not a sampling design; SweepDesign enumerates the grid itself
        case DesignMethod::random:
            for (std::uint32_t p = 0; p < points; ++p) {
                RandomEngine e = make_stream(design_key(seed, p), "sweep", "design:random");
                for (std::size_t d = 0; d < dims; ++d) u[p * dims + d] = draw_uniform01(e);
            }
            break;
        case DesignMethod::lhs:
            // Each dimension cut into `points` equal strata, one point per stratum,
            // strata matched across dimensions by a keyed random permutation.
            for (std::size_t d = 0; d < dims; ++d) {
                RandomEngine e = make_stream(design_key(seed, 0), "sweep", "design:lhs-strata:" + std::to_string(d));
                const std::vector<std::uint32_t> stratum = permutation(points, e);
                for (std::uint32_t p = 0; p < points; ++p) {
                    RandomEngine jitter =
                        make_stream(design_key(seed, p), "sweep", "design:lhs-jitter:" + std::to_string(d));
                    u[p * dims + d] = (stratum[p] + draw_uniform01(jitter)) / points;
                }
            }
            break;
        case DesignMethod::sobol: {
            std::vector<std::uint32_t> scramble(dims);
            for (std::size_t d = 0; d < dims; ++d)
                scramble[d] = static_cast<std::uint32_t>(
                    stream_seed(design_key(seed, 0), "sweep", "design:sobol:" + std::to_string(d)) >> 32);
            // Boost's engine starts after the origin, which is point 0 of the sequence.
            boost::random::sobol engine(static_cast<unsigned>(dims));
            for (std::uint32_t p = 0; p < points; ++p)
                for (std::size_t d = 0; d < dims; ++d) {
                    const std::uint32_t raw = p == 0 ? 0u : static_cast<std::uint32_t>(engine() >> 32);
                    u[p * dims + d] = (owen_scramble(raw, scramble[d]) + 0.5) * 0x1p-32;
                }
            break;
        }
    }
    return u;
}

namespace {

std::string number_text(double v) {
    char buffer[40];
    std::snprintf(buffer, sizeof buffer, "%.17g", v);  // round-trips exactly
    return buffer;
}

// A parameter's value at unit coordinate u.
double value_at(const SweepParameter& sp, double u) {
    switch (sp.kind) {
        case SweepParameter::Kind::values: {
            const auto n = static_cast<double>(sp.values.size());
            return std::min(std::floor(u * n), n - 1);  // an index; number() turns it into the value
        }
        case SweepParameter::Kind::range:
            if (sp.log) return std::exp(std::log(sp.min) + (std::log(sp.max) - std::log(sp.min)) * u);
            return sp.min + (sp.max - sp.min) * u;
        case SweepParameter::Kind::distribution: {
            const double clamped = std::clamp(u, 1e-12, 1 - 1e-12);
            const double z = boost::math::quantile(boost::math::normal_distribution<double>(), clamped);
            return draw(sp.distribution, z, u);
        }
    }
    return 0;
}

// The stored value of `values` entry i: the number, 0/1 for a boolean, the index for text.
double values_entry(const SweepParameter& sp, std::size_t i) {
    const std::string& t = sp.values[i];
    switch (sp.type) {
        case SweepParameter::Type::number: return std::strtod(t.c_str(), nullptr);
        case SweepParameter::Type::boolean: return t == "true" || t == "True" || t == "TRUE" ? 1 : 0;
        case SweepParameter::Type::text: return static_cast<double>(i);
    }
    return 0;
}

double grid_level(const SweepParameter& sp, int level) {
    if (sp.kind == SweepParameter::Kind::values) return values_entry(sp, static_cast<std::size_t>(level));
    if (sp.levels <= 1) return sp.min;
    const double f = static_cast<double>(level) / (sp.levels - 1);
    if (level == sp.levels - 1) return sp.max;
    if (sp.log) return std::exp(std::log(sp.min) + (std::log(sp.max) - std::log(sp.min)) * f);
    return sp.min + (sp.max - sp.min) * f;
}

}  // namespace

SweepDesign::SweepDesign(const SweepSpec& spec, std::uint64_t seed) : parameters_(spec.parameters) {
    const std::size_t dims = parameters_.size();
    if (spec.method == DesignMethod::grid) {
        // First parameter slowest, last fastest (C order, as itertools.product).
        std::vector<int> levels(dims);
        std::uint64_t n = 1;
        for (std::size_t j = 0; j < dims; ++j) {
            const SweepParameter& sp = parameters_[j];
            levels[j] = sp.kind == SweepParameter::Kind::values ? static_cast<int>(sp.values.size()) : sp.levels;
            n *= static_cast<std::uint64_t>(std::max(levels[j], 1));
        }
        points_ = static_cast<std::uint32_t>(n);
        values_.resize(static_cast<std::size_t>(points_) * dims);
        for (std::uint32_t p = 0; p < points_; ++p) {
            std::uint64_t rest = p;
            for (std::size_t j = dims; j-- > 0;) {
                const auto l = static_cast<int>(rest % static_cast<std::uint64_t>(levels[j]));
                rest /= static_cast<std::uint64_t>(levels[j]);
                values_[p * dims + j] = grid_level(parameters_[j], l);
            }
        }
        return;
    }
    points_ = spec.points;
    const std::vector<double> u = unit_design(spec.method, points_, dims, seed);
    values_.resize(u.size());
    for (std::uint32_t p = 0; p < points_; ++p)
        for (std::size_t j = 0; j < dims; ++j) {
            const SweepParameter& sp = parameters_[j];
            const double v = value_at(sp, u[p * dims + j]);
            values_[p * dims + j] =
                sp.kind == SweepParameter::Kind::values ? values_entry(sp, static_cast<std::size_t>(v)) : v;
        }
}

std::string SweepDesign::text(std::uint32_t point, std::size_t j) const {
    const SweepParameter& sp = parameters_[j];
    const double v = value(point, j);
    if (sp.kind != SweepParameter::Kind::values || sp.type == SweepParameter::Type::number) return number_text(v);
    if (sp.type == SweepParameter::Type::boolean) return v != 0 ? "true" : "false";
    return sp.values[static_cast<std::size_t>(v)];
}

std::optional<Statistic> parse_statistic(const std::string& name) {
    if (name == "mean") return Statistic{Statistic::Kind::mean, 0, name};
    if (name == "std") return Statistic{Statistic::Kind::std, 0, name};
    if (name == "min") return Statistic{Statistic::Kind::min, 0, name};
    if (name == "max") return Statistic{Statistic::Kind::max, 0, name};
    if (name.size() >= 2 && name[0] == 'p') {
        const std::string digits = name.substr(1);
        if (digits.empty() || digits.size() > 3 ||
            !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
            return std::nullopt;
        const int percent = std::stoi(digits);
        if (percent > 100 || (digits.size() == 3 && digits != "100")) return std::nullopt;
        return Statistic{Statistic::Kind::quantile, percent / 100.0, name};
    }
    return std::nullopt;
}

std::vector<std::string> statistic_names_help() { return {"mean", "std", "min", "max", "p00", "p05", "p50", "p95", "p100"}; }

void compute_statistics(std::span<const Statistic> stats, std::vector<double>& values, std::span<double> out) {
    std::erase_if(values, [](double v) { return std::isnan(v); });
    const std::size_t n = values.size();
    const double nan = std::numeric_limits<double>::quiet_NaN();
    double mean = nan;
    if (n > 0) {
        double sum = 0;
        for (const double v : values) sum += v;  // in replication order: the same sum on any thread count
        mean = sum / static_cast<double>(n);
    }
    bool sorted = false;
    for (std::size_t s = 0; s < stats.size(); ++s) {
        const Statistic& st = stats[s];
        double r = nan;
        if (n > 0) switch (st.kind) {
                case Statistic::Kind::mean: r = mean; break;
                case Statistic::Kind::std: {
                    if (n < 2) break;
                    double ss = 0;
                    for (const double v : values) ss += (v - mean) * (v - mean);
                    r = std::sqrt(ss / static_cast<double>(n - 1));
                    break;
                }
                case Statistic::Kind::min: r = *std::min_element(values.begin(), values.end()); break;
                case Statistic::Kind::max: r = *std::max_element(values.begin(), values.end()); break;
                case Statistic::Kind::quantile: {
                    if (!sorted) std::sort(values.begin(), values.end()), sorted = true;
                    const double h = (static_cast<double>(n) - 1) * st.q;
                    const auto lo = static_cast<std::size_t>(std::floor(h));
                    const std::size_t hi = std::min(lo + 1, n - 1);
                    r = values[lo] + (h - static_cast<double>(lo)) * (values[hi] - values[lo]);
                    break;
                }
            }
        out[s] = r;
    }
}

}  // namespace entangle
