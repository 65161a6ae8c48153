#include "engine/sweep.hpp"

#include <algorithm>
#include <boost/math/distributions/normal.hpp>
#include <boost/random/sobol.hpp>
#include <cmath>
#include <cstdio>
#include <limits>

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

std::uint64_t mix64(std::uint64_t z) {  // splitmix64's finaliser
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

}  // namespace

std::uint32_t keyed_permutation(std::uint32_t x, std::uint32_t n, std::uint64_t key) {
    unsigned bits = 2;
    while (bits < 32 && (std::uint64_t{1} << bits) < n) bits += 2;
    const unsigned half = bits / 2;
    const std::uint64_t mask = (std::uint64_t{1} << half) - 1;
    std::uint64_t v = x;
    do {  // a bijection of [0, 2^bits): from x < n it comes back below n
        std::uint64_t left = v >> half, right = v & mask;
        for (std::uint64_t round = 0; round < 4; ++round) {
            const std::uint64_t f = mix64(key ^ mix64((round << 32) | right)) & mask;
            const std::uint64_t next = left ^ f;
            left = right;
            right = next;
        }
        v = (left << half) | right;
    } while (v >= n);
    return static_cast<std::uint32_t>(v);
}

UnitDesign::UnitDesign(DesignMethod method, std::uint32_t points, std::size_t dimensions, std::uint64_t seed)
    : method_(method), points_(points), dimensions_(dimensions), seed_(seed) {
    if (method == DesignMethod::lhs)
        for (std::size_t d = 0; d < dimensions; ++d)
            key_.push_back(stream_seed(design_key(seed, 0), "sweep", "design:lhs-strata:" + std::to_string(d)));
    if (method == DesignMethod::sobol && dimensions > 0) {
        for (std::size_t d = 0; d < dimensions; ++d)
            key_.push_back(stream_seed(design_key(seed, 0), "sweep", "design:sobol:" + std::to_string(d)) >> 32);
        // Point k of Boost's Gray-code ordered sequence is the XOR of the
        // direction numbers V_r over the bits r of gray(k) (Antonov-Saleev);
        // Boost's seed(i) moves to point i + 1, whose Gray code is 1 << r
        // for i + 1 = 2^(r+1) - 1: so V_r is the point after seed(2^(r+1) - 2).
        directions_.assign(dimensions * 32, 0);
        boost::random::sobol engine(static_cast<unsigned>(dimensions));
        for (unsigned r = 0; r < 32; ++r) {
            engine.seed((std::uint64_t{2} << r) - 2);
            for (std::size_t d = 0; d < dimensions; ++d)
                directions_[d * 32 + r] = static_cast<std::uint32_t>(engine() >> 32);
        }
    }
}

double UnitDesign::at(std::uint32_t p, std::size_t d) const {
    switch (method_) {
        case DesignMethod::grid:  // not a sampling design; SweepDesign enumerates the grid itself
        case DesignMethod::random: {
            RandomEngine e = make_stream(design_key(seed_, p), "sweep", "design:random");
            double u = 0;
            for (std::size_t i = 0; i <= d; ++i) u = draw_uniform01(e);
            return u;
        }
        case DesignMethod::lhs: {
            // Each dimension cut into `points` equal strata, one point per
            // stratum, strata matched across dimensions by a keyed permutation.
            RandomEngine jitter = make_stream(design_key(seed_, p), "sweep", "design:lhs-jitter:" + std::to_string(d));
            return (keyed_permutation(p, points_, key_[d]) + draw_uniform01(jitter)) / points_;
        }
        case DesignMethod::sobol:
            return (owen_scramble(sobol_unscrambled(p, d), static_cast<std::uint32_t>(key_[d])) + 0.5) * 0x1p-32;
    }
    return 0;
}

std::uint32_t UnitDesign::sobol_unscrambled(std::uint32_t p, std::size_t d) const {
    const std::uint32_t gray = p ^ (p >> 1);
    std::uint32_t raw = 0;
    for (unsigned r = 0; r < 32; ++r)
        if (gray >> r & 1u) raw ^= directions_[d * 32 + r];
    return raw;
}

std::vector<double> unit_design(DesignMethod method, std::uint32_t points, std::size_t dims, std::uint64_t seed) {
    std::vector<double> u(static_cast<std::size_t>(points) * dims);
    if (dims == 0) return u;
    const UnitDesign design(method, points, dims, seed);
    for (std::uint32_t p = 0; p < points; ++p)
        for (std::size_t d = 0; d < dims; ++d) u[p * dims + d] = design.at(p, d);
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
        grid_ = true;
        grid_levels_.resize(dims);
        grid_stride_.resize(dims);
        std::uint64_t n = 1;
        for (std::size_t j = dims; j-- > 0;) {
            const SweepParameter& sp = parameters_[j];
            grid_levels_[j] =
                std::max(sp.kind == SweepParameter::Kind::values ? static_cast<int>(sp.values.size()) : sp.levels, 1);
            grid_stride_[j] = n;
            n *= static_cast<std::uint64_t>(grid_levels_[j]);
        }
        points_ = static_cast<std::uint32_t>(n);
        return;
    }
    points_ = spec.points;
    unit_.emplace(spec.method, points_, dims, seed);
}

double SweepDesign::value(std::uint32_t point, std::size_t j) const {
    const SweepParameter& sp = parameters_[j];
    if (grid_) {
        const auto level = static_cast<int>((point / grid_stride_[j]) % static_cast<std::uint64_t>(grid_levels_[j]));
        return grid_level(sp, level);
    }
    const double v = value_at(sp, unit_->at(point, j));
    return sp.kind == SweepParameter::Kind::values ? values_entry(sp, static_cast<std::size_t>(v)) : v;
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

TableTextBounds wider_table_text(const TableTextBounds& a, const TableTextBounds& b) {
    TableTextBounds out;
    for (auto field : {&TableTextBounds::contract_id, &TableTextBounds::contract_kind, &TableTextBounds::firm,
                       &TableTextBounds::month, &TableTextBounds::status, &TableTextBounds::end_reason,
                       &TableTextBounds::event_kind, &TableTextBounds::event_firms})
        out.*field = (a.*field == 0 || b.*field == 0) ? 0 : std::max(a.*field, b.*field);
    return out;
}

}  // namespace entangle
