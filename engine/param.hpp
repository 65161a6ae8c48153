#pragma once
// A numeric scenario parameter: a constant, a time path (piecewise-linear in
// months, flat outside its ends) or an uncertain value drawn once per
// replication (MODEL.md section 2). Paths are tabulated per step when the
// scenario is frozen, so evaluating one in the step loop is an array read.
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "engine/cached_pow.hpp"
#include "engine/time.hpp"

namespace entangle {

enum class DistributionShape : std::uint8_t { normal, lognormal, uniform, triangular };

// normal: a = mean, b = sd. lognormal: a = median, b = sigma (sd of the log).
// uniform: a = min, b = max. triangular: a = min, b = mode, c = max.
// Draws are clamped to [lower, upper] (the parameter's valid range).
struct Distribution {
    DistributionShape shape = DistributionShape::normal;
    double a = 0, b = 0, c = 0;
    double lower = -std::numeric_limits<double>::infinity();
    double upper = std::numeric_limits<double>::infinity();
};

struct PathKnot {
    Month at;
    double value = 0;
};

class Param {
public:
    enum class Kind : std::uint8_t { constant, path, uncertain };

    Param() = default;
    Param(const Param& other);
    Param& operator=(const Param& other);
    Param(Param&&) noexcept = default;
    Param& operator=(Param&&) noexcept = default;
    ~Param() = default;

    static Param constant(double value);
    static Param path(std::vector<PathKnot> knots);  // knots sorted by month, at least one
    // An uncertain value; `index` is its slot in Scenario::uncertain.
    static Param uncertain(std::uint32_t index);

    Kind kind() const { return kind_; }
    // A constant's value; a path's value at its first knot.
    double constant_value() const;
    std::span<const PathKnot> knots() const;
    std::uint32_t uncertain_index() const { return uncertain_index_; }

    // Value in a given month, for constant and path kinds.
    double at_month(Month m) const;
    // Tabulate a path over the steps of a run (step i is start + i * months_per_step).
    void tabulate(Month start, int steps, int months_per_step);
    // Tabulate (value + offset)^exponent per step for power_at. A growth path
    // changes every month, so a cached pow misses every month: the frozen
    // scenario tabulates the powers its readers ask for. Call after tabulate
    // and change_from; ignored unless a path.
    void tabulate_power(double offset, double exponent);
    // (value at step t + offset)^exponent: read from the table tabulate_power made
    // for this very (offset, exponent), the same bits as computing it; otherwise
    // (constants, draws, an exponent not tabulated) through `cache`.
    double power_at(int step, std::span<const double> drawn, double offset, double exponent, CachedPow& cache) const {
        if (kind_ == Kind::path)
            for (const PowerTable& t : detail_->powers)
                if (t.offset == offset && t.exponent == exponent) return t.by_step[step];
        return cache(power_base(at(step, drawn), offset), exponent);
    }

    // From `step` on, the value becomes `value` (scale: is multiplied by it): a
    // dated set, scale or shock event, baked in when the scenario is frozen.
    void change_from(int step, int steps, bool scale, double value);

    // The value at step t in a replication whose uncertain draws are `drawn`.
    // Tests in order of frequency, not a switch: the step loop reads parameters
    // tens of thousands of times a replication, mostly constants.
    double at(int step, std::span<const double> drawn) const {
        if (kind_ == Kind::constant) [[likely]]
            return value_;
        if (kind_ == Kind::path) return by_step_[step];
        double v = drawn[uncertain_index_];
        if (detail_)
            for (const Change& c : detail_->changes)
                if (step >= c.from_step) v = c.scale ? v * c.value : c.value;
        return v;
    }
    // For parameters that are fixed over a run (uncertain or constant only).
    double fixed(std::span<const double> drawn) const { return at(0, drawn); }

private:
    // A zero offset leaves the value as is (x + 0.0 would turn -0.0 into +0.0).
    static double power_base(double value, double offset) { return offset == 0 ? value : value + offset; }

    struct PowerTable {
        double offset = 0, exponent = 0;
        std::vector<double> by_step;  // power_base(by_step[t], offset)^exponent
    };
    struct Change {
        int from_step = 0;
        bool scale = false;
        double value = 0;
    };
    // What only paths and changed uncertain values need, out of line: a role
    // holds some twenty parameters and the step loop reads them every month, so
    // a parameter is three words (24 bytes, not 96) to keep roles in few cache lines.
    struct Detail {
        double first_value = 0;       // a path's value before tabulation: its first knot, or the constant it replaced
        std::vector<PathKnot> knots;  // empty for a constant turned path by an event
        std::vector<double> by_step;
        std::vector<Change> changes;  // uncertain values only; paths bake changes into by_step
        std::vector<PowerTable> powers;  // paths only: powers of by_step (tabulate_power)
    };
    void point_at_table() { by_step_ = detail_ ? detail_->by_step.data() : nullptr; }

    Kind kind_ = Kind::constant;
    std::uint32_t uncertain_index_ = 0;
    union {
        double value_ = 0;        // constant
        const double* by_step_;   // path: detail_->by_step.data()
    };
    std::unique_ptr<Detail> detail_;
};

// One uncertain parameter of a scenario, drawn once per replication from the
// stream (seed, point, replication, owner, "param:" + key_path).
struct UncertainParam {
    std::string key_path;  // e.g. "firms.openai.lab.training_growth"
    std::string owner;     // firm, region or chip name, or "market" / "agi"
    Distribution distribution;
};

double draw(const Distribution& d, double standard_normal, double uniform01);

}  // namespace entangle
