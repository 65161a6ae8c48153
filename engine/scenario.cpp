#include "engine/scenario.hpp"

#include <algorithm>

namespace entangle {
namespace {
template <class Spec>
std::optional<std::uint16_t> find_by_name(const std::vector<Spec>& specs, std::string_view name) {
    const auto it = std::lower_bound(specs.begin(), specs.end(), name,
                                     [](const Spec& s, std::string_view n) { return s.name < n; });
    if (it == specs.end() || it->name != name) return std::nullopt;
    return static_cast<std::uint16_t>(it - specs.begin());
}
}  // namespace

std::optional<FirmId> Scenario::find_firm(std::string_view n) const { return find_by_name(firms, n); }
std::optional<ChipId> Scenario::find_chip(std::string_view n) const { return find_by_name(chips, n); }
std::optional<RegionId> Scenario::find_region(std::string_view n) const { return find_by_name(regions, n); }

}  // namespace entangle
