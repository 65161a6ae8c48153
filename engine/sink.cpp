#include "engine/sink.hpp"

#include "engine/scenario.hpp"
#include "engine/simulation.hpp"

namespace entangle {

RunLayout make_layout(const Scenario& sc, std::string command, std::uint64_t seed, int replications,
                      std::vector<std::string> point_labels) {
    RunLayout layout;
    layout.command = std::move(command);
    layout.seed = seed;
    layout.scenario_yaml = sc.resolved_yaml;
    layout.point_labels = std::move(point_labels);
    layout.replications = replications;
    const RecordShape shape = record_shape(sc);
    for (int t = 0; t < shape.times; ++t) layout.times.push_back(sc.month_of_step(t * sc.outputs.every));
    for (const FirmSpec& f : sc.firms) {
        layout.firm_names.push_back(f.name);
        std::string roles;
        if (f.lab) roles += "lab";
        if (f.cloud) roles += roles.empty() ? "cloud" : "+cloud";
        if (f.chipmaker) roles += roles.empty() ? "chipmaker" : "+chipmaker";
        layout.firm_roles.push_back(roles);
    }
    for (const ChipSpec& c : sc.chips) layout.chip_names.push_back(c.name);
    for (const RegionSpec& r : sc.regions) layout.region_names.push_back(r.name);
    for (const UncertainParam& u : sc.uncertain) layout.drawn_param_names.push_back(u.key_path);
    layout.network = sc.outputs.network;
    const auto wanted = [&](std::string_view name) {
        if (sc.outputs.all_series) return true;
        for (const std::string& s : sc.outputs.series)
            if (s == name) return true;
        return false;
    };
    for (const SeriesInfo& s : firm_series_info)
        if (wanted(s.name)) layout.firm_series.emplace_back(s.name);
    for (const SeriesInfo& s : market_series_info)
        if (wanted(s.name)) layout.market_series.emplace_back(s.name);
    for (const SeriesInfo& s : chip_series_info)
        if (wanted(s.name)) layout.chip_series.emplace_back(s.name);
    return layout;
}

}  // namespace entangle
