#include "engine/param.hpp"

#include <algorithm>
#include <cmath>

namespace entangle {

Param Param::constant(double value) {
    Param p;
    p.kind_ = Kind::constant;
    p.value_ = value;
    return p;
}

Param Param::path(std::vector<PathKnot> knots) {
    Param p;
    p.kind_ = Kind::path;
    p.knots_ = std::move(knots);
    p.value_ = p.knots_.empty() ? 0.0 : p.knots_.front().value;
    return p;
}

Param Param::uncertain(std::uint32_t index) {
    Param p;
    p.kind_ = Kind::uncertain;
    p.uncertain_index_ = index;
    return p;
}

double Param::at_month(Month m) const {
    if (kind_ != Kind::path || knots_.empty()) return value_;
    if (m <= knots_.front().at) return knots_.front().value;
    if (m >= knots_.back().at) return knots_.back().value;
    const auto upper = std::upper_bound(knots_.begin(), knots_.end(), m,
                                        [](Month month, const PathKnot& k) { return month < k.at; });
    const auto lower = upper - 1;
    const double span = static_cast<double>(upper->at - lower->at);
    const double w = static_cast<double>(m - lower->at) / span;
    return lower->value + w * (upper->value - lower->value);
}

void Param::tabulate(Month start, int steps, int months_per_step) {
    if (kind_ != Kind::path) return;
    by_step_.resize(static_cast<std::size_t>(std::max(steps, 1)));
    for (int i = 0; i < static_cast<int>(by_step_.size()); ++i)
        by_step_[static_cast<std::size_t>(i)] = at_month(start + i * months_per_step);
}

void Param::change_from(int step, int steps, bool scale, double value) {
    if (kind_ == Kind::uncertain) {
        changes_.push_back(Change{step, scale, value});
        return;
    }
    if (kind_ == Kind::constant) {
        kind_ = Kind::path;
        knots_ = {};
        by_step_.assign(static_cast<std::size_t>(std::max(steps, 1)), value_);
    }
    for (std::size_t s = static_cast<std::size_t>(std::max(step, 0)); s < by_step_.size(); ++s)
        by_step_[s] = scale ? by_step_[s] * value : value;
}

double draw(const Distribution& d, double standard_normal, double uniform01) {
    double x = 0;
    switch (d.shape) {
        case DistributionShape::normal: x = d.a + d.b * standard_normal; break;
        case DistributionShape::lognormal: x = d.a * std::exp(d.b * standard_normal); break;
        case DistributionShape::uniform: x = d.a + (d.b - d.a) * uniform01; break;
        case DistributionShape::triangular: {
            // Inverse CDF of the triangular distribution (min a, mode b, max c).
            const double range = d.c - d.a;
            if (range <= 0) { x = d.a; break; }
            const double f = (d.b - d.a) / range;
            x = uniform01 < f ? d.a + std::sqrt(uniform01 * range * (d.b - d.a))
                              : d.c - std::sqrt((1 - uniform01) * range * (d.c - d.b));
            break;
        }
    }
    return std::clamp(x, d.lower, d.upper);
}

}  // namespace entangle
