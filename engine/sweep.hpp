#pragma once
// A parameter sweep as plain data (FORMATS.md "Sweep file"; docs/sweeps.md):
// the design that places the points, the values each parameter takes, and
// the statistics kept per point. engine/scenario/sweep_loader.cpp reads it
// from YAML; engine/sweep_runner.hpp runs it. Knows no YAML and no HDF5.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/param.hpp"

namespace entangle {

enum class DesignMethod : std::uint8_t { grid, random, lhs, sobol };

// One swept scenario key (a `--set` path) and the values it takes.
struct SweepParameter {
    enum class Kind : std::uint8_t { values, range, distribution };
    enum class Type : std::uint8_t { number, boolean, text };  // of `values`; ranges and distributions are numbers

    std::string path;  // e.g. firms.openai.lab.training_growth
    Kind kind = Kind::values;
    Type type = Type::number;
    std::vector<std::string> values;  // values: as written (YAML scalars)
    double min = 0, max = 0;          // range
    bool log = false;                 // range: uniform in log(value)
    int levels = 0;                   // range in a grid design: evenly spaced values, min and max included
    Distribution distribution;        // distribution: sampled by its inverse CDF
    int line = 0, column = 0;         // where the sweep file declares it, for messages
};

struct SweepSpec {
    std::string name;             // sweep.name, else the sweep file's stem
    std::string file;             // the sweep file, as given
    std::string base;             // the base scenario file, resolved against the sweep file's directory
    int base_line = 0, base_column = 0;  // where the sweep file names it
    std::string sweep_yaml;       // the sweep file's text, for the results file and resume checks
    DesignMethod method = DesignMethod::grid;
    std::uint32_t points = 0;     // grid: the product of the levels
    int replications = 0;         // 0: the base scenario's
    std::optional<std::uint64_t> seed;  // unset: the base scenario's
    std::vector<SweepParameter> parameters;
    // outputs:
    std::optional<std::vector<std::string>> series;  // unset: the base scenario's
    bool network = false;         // network matrices (large) off unless asked for
    bool keep_replications = false;
    std::vector<std::string> statistics{"mean", "std", "p05", "p50", "p95"};
};

// The points of a sweep that one file holds, in ascending order: first,
// first + stride, ... (`count` of them). A whole sweep is {0, 1, n}; shard I
// of N is {I, N, ...}. Described rather than listed, so nothing is held per
// point.
struct PointRange {
    std::uint32_t first = 0, stride = 1, count = 0;

    // The shard's points of a sweep of `points` points (shard 0 of 1: all of them).
    static PointRange shard(std::uint32_t points, std::uint32_t index, std::uint32_t shards) {
        const std::uint32_t count = points > index ? (points - index + shards - 1) / shards : 0;
        return PointRange{index, shards, count};
    }
    std::size_t size() const { return count; }
    std::uint32_t at(std::size_t i) const { return first + static_cast<std::uint32_t>(i) * stride; }
    // The position of a sweep point in the range; nullopt if it is not in it.
    std::optional<std::size_t> index_of(std::uint32_t point) const {
        if (point < first || (point - first) % stride != 0 || (point - first) / stride >= count) return std::nullopt;
        return (point - first) / stride;
    }
};

// The longest text, in bytes, each bounded text column of the results file's
// tables can receive from a sweep's points (docs/results.md "Tables"): the
// writer stores such a column as a fixed-length string of that width instead
// of a variable-length one (one HDF5 heap object per value, most of what
// writing a kept replication's rows cost). 0: unbounded, variable-length.
// Computed by table_text_bounds (engine/sweep_runner.hpp) from the scenario,
// so that no value the engine generates can exceed it; the writer still
// refuses a longer value rather than cut it.
struct TableTextBounds {
    std::uint32_t contract_id = 0;    // contracts.id
    std::uint32_t contract_kind = 0;  // contracts.kind
    std::uint32_t firm = 0;           // contracts.seller, contracts.buyer
    std::uint32_t month = 0;          // contracts.signed/start/end, events.time
    std::uint32_t status = 0;         // contracts.status
    std::uint32_t end_reason = 0;     // contracts.end_reason
    std::uint32_t event_kind = 0;     // events.kind
    std::uint32_t event_firms = 0;    // events.firms
    bool operator==(const TableTextBounds&) const = default;
};

// Bounds that hold the rows of both (files merged, the two scenarios of a
// compare): the wider of each width; variable-length (0) if either is.
TableTextBounds wider_table_text(const TableTextBounds& a, const TableTextBounds& b);

// The unit-hypercube coordinates of a design's points, in [0, 1), each
// computed on demand from the point's index and the seed: nothing is held per
// point, so a sweep's memory does not grow with its number of points.
// random: a stream per point. lhs: each dimension cut into `points` strata,
// point p in stratum permutation_d(p) (a keyed permutation of [0, points),
// below) with a jitter from a stream per point. sobol: the Sobol' sequence
// (Boost's direction numbers, point 0 the origin) by direct index
// computation, Owen-scrambled per dimension. Not for grids (SweepDesign
// enumerates them). Thread-safe (const).
class UnitDesign {
public:
    UnitDesign(DesignMethod method, std::uint32_t points, std::size_t dimensions, std::uint64_t seed);
    double at(std::uint32_t point, std::size_t dimension) const;
    // sobol: the point's coordinate before scrambling (the top 32 bits of
    // Boost's), for tests that it is Boost's sequence.
    std::uint32_t sobol_unscrambled(std::uint32_t point, std::size_t dimension) const;

private:
    DesignMethod method_;
    std::uint32_t points_;
    std::size_t dimensions_;
    std::uint64_t seed_;
    std::vector<std::uint64_t> key_;          // per dimension: lhs permutation key or sobol scramble
    std::vector<std::uint32_t> directions_;   // sobol: [dimension][bit], the top 32 bits of Boost's
};

// A keyed pseudo-random permutation of [0, n) (n >= 1): a 4-round Feistel
// network over the smallest even number of bits that covers n, walking
// values >= n back into range (cycle walking). O(1) memory; exposed for tests.
std::uint32_t keyed_permutation(std::uint32_t x, std::uint32_t n, std::uint64_t key);

// Every point's parameter values, computed from the sweep alone (its seed and
// design), so that any process (thread, rank, shard, resumed run) computes
// the same points. Design draws use their own streams, keyed (seed, point,
// 0, "sweep", "design:..."). Values are computed on demand from the point's
// index (nothing held per point); thread-safe (const).
class SweepDesign {
public:
    SweepDesign(const SweepSpec& spec, std::uint64_t seed);

    std::uint32_t points() const { return points_; }
    std::size_t parameters() const { return parameters_.size(); }
    // The value of parameter j at point p: the number itself; for `values` of
    // booleans 0/1, of text the index into SweepParameter::values.
    double value(std::uint32_t point, std::size_t j) const;
    // The YAML text that sets parameter j at point p (a `--set` value).
    std::string text(std::uint32_t point, std::size_t j) const;
    const SweepParameter& parameter(std::size_t j) const { return parameters_[j]; }

private:
    std::vector<SweepParameter> parameters_;
    std::uint32_t points_ = 0;
    bool grid_ = false;
    std::vector<std::uint64_t> grid_stride_;  // grid: points per step of parameter j's level
    std::vector<int> grid_levels_;
    std::optional<UnitDesign> unit_;          // the other designs
};

// The unit-hypercube coordinates of a design, [point][dimension], in [0, 1)
// (UnitDesign's, all at once). For tests of the designs' properties.
std::vector<double> unit_design(DesignMethod method, std::uint32_t points, std::size_t dimensions,
                                std::uint64_t seed);

// Statistics over a point's replications, computed over the values that are
// not NaN (all NaN: NaN). mean; std (sample standard deviation, n - 1 in the
// denominator; NaN for fewer than two values); min; max; pNN (quantile NN/100
// by linear interpolation between order statistics: numpy's default "linear").
struct Statistic {
    enum class Kind : std::uint8_t { mean, std, min, max, quantile };
    Kind kind = Kind::mean;
    double q = 0;  // quantile
    std::string name;
};
// Parses a statistic's name; nullopt for an unknown one.
std::optional<Statistic> parse_statistic(const std::string& name);
std::vector<std::string> statistic_names_help();  // for messages: mean, std, min, max, p00..p100

// Every statistic of `values` (changed: sorted, NaN removed), in order.
void compute_statistics(std::span<const Statistic> stats, std::vector<double>& values, std::span<double> out);

const char* design_method_name(DesignMethod m);

}  // namespace entangle
