#include "engine/param.hpp"

#include <algorithm>
#include <cmath>

namespace entangle {

Param::Param(const Param& other)
    : kind_(other.kind_),
      uncertain_index_(other.uncertain_index_),
      detail_(other.detail_ ? std::make_unique<Detail>(*other.detail_) : nullptr) {
    if (kind_ == Kind::path) point_at_table();
    else value_ = other.value_;
}

Param& Param::operator=(const Param& other) {
    if (this != &other) *this = Param(other);
    return *this;
}

Param Param::constant(double value) {
    Param p;
    p.kind_ = Kind::constant;
    p.value_ = value;
    return p;
}

Param Param::path(std::vector<PathKnot> knots) {
    Param p;
    p.kind_ = Kind::path;
    p.detail_ = std::make_unique<Detail>();
    p.detail_->first_value = knots.empty() ? 0.0 : knots.front().value;
    p.detail_->knots = std::move(knots);
    p.point_at_table();
    return p;
}

Param Param::uncertain(std::uint32_t index) {
    Param p;
    p.kind_ = Kind::uncertain;
    p.uncertain_index_ = index;
    return p;
}

double Param::constant_value() const {
    if (kind_ == Kind::constant) return value_;
    return detail_ ? detail_->first_value : 0.0;
}

std::span<const PathKnot> Param::knots() const {
    if (!detail_) return {};
    return detail_->knots;
}

double Param::at_month(Month m) const {
    if (kind_ != Kind::path) return kind_ == Kind::constant ? value_ : 0.0;
    const std::vector<PathKnot>& knots = detail_->knots;
    if (knots.empty()) return detail_->first_value;
    if (m <= knots.front().at) return knots.front().value;
    if (m >= knots.back().at) return knots.back().value;
    const auto upper = std::upper_bound(knots.begin(), knots.end(), m,
                                        [](Month month, const PathKnot& k) { return month < k.at; });
    const auto lower = upper - 1;
    const double span = static_cast<double>(upper->at - lower->at);
    const double w = static_cast<double>(m - lower->at) / span;
    return lower->value + w * (upper->value - lower->value);
}

void Param::tabulate(Month start, int steps, int months_per_step) {
    if (kind_ != Kind::path) return;
    std::vector<double>& by_step = detail_->by_step;
    by_step.resize(static_cast<std::size_t>(std::max(steps, 1)));
    for (int i = 0; i < static_cast<int>(by_step.size()); ++i)
        by_step[static_cast<std::size_t>(i)] = at_month(start + i * months_per_step);
    detail_->powers.clear();  // tabulated from the old values
    point_at_table();
}

void Param::tabulate_power(double offset, double exponent) {
    if (kind_ != Kind::path) return;
    for (const PowerTable& t : detail_->powers)
        if (t.offset == offset && t.exponent == exponent) return;
    PowerTable& table = detail_->powers.emplace_back(PowerTable{offset, exponent, {}});
    table.by_step.reserve(detail_->by_step.size());
    for (double v : detail_->by_step) table.by_step.push_back(std::pow(power_base(v, offset), exponent));
}

void Param::change_from(int step, int steps, bool scale, double value) {
    if (kind_ == Kind::uncertain) {
        if (!detail_) detail_ = std::make_unique<Detail>();
        detail_->changes.push_back(Change{step, scale, value});
        return;
    }
    if (kind_ == Kind::constant) {
        const double constant = value_;
        kind_ = Kind::path;
        detail_ = std::make_unique<Detail>();
        detail_->first_value = constant;
        detail_->by_step.assign(static_cast<std::size_t>(std::max(steps, 1)), constant);
    }
    std::vector<double>& by_step = detail_->by_step;
    for (std::size_t s = static_cast<std::size_t>(std::max(step, 0)); s < by_step.size(); ++s)
        by_step[s] = scale ? by_step[s] * value : value;
    detail_->powers.clear();  // tabulated from the old values
    point_at_table();
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
