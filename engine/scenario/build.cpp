// From the merged tree to the Scenario: gather the names references resolve
// against, read every section through its schema, then freeze (tabulate).
#include "engine/scenario/build.hpp"

#include <algorithm>

#include "engine/scenario/sections.hpp"

namespace entangle::loader {

namespace {

// Sorted, checked names of one of the named sections (chips, regions, firms).
std::vector<std::string> section_names(const Tree* section, std::string_view kind, Problems& problems) {
    std::vector<std::string> names;
    if (!section || !section->is_map()) return names;
    for (const TreeEntry& e : section->entries) {
        if (!is_valid_name(e.key))
            problems.add(e.key_mark, std::string(kind) + " name " + in_quotes(e.key) +
                                         " must be lowercase letters, digits and '_'");
        names.push_back(e.key);
    }
    std::sort(names.begin(), names.end());
    return names;
}

std::vector<std::string> contract_ids(const Tree& root) {
    std::vector<std::string> ids;
    const auto add_id = [&](const Tree* contract) {
        const Tree* id = contract && contract->is_map() ? contract->find("id") : nullptr;
        if (id && id->is_scalar()) ids.push_back(id->text);
    };
    if (const Tree* contracts = root.find("contracts"); contracts && contracts->is_list())
        for (const Tree& c : contracts->items) add_id(&c);
    if (const Tree* events = root.find("events"); events && events->is_list())
        for (const Tree& e : events->items) add_id(e.is_map() ? e.find("contract") : nullptr);
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    return ids;
}

// Every name a reference may use, gathered before any section is read so
// that sections can refer to each other in any order.
Names collect_names(const Tree& root, Problems& problems) {
    Names names;
    const Tree* firms = root.find("firms");
    const Tree* chips = root.find("chips");
    names.firms = section_names(firms, "firm", problems);
    names.chips = section_names(chips, "chip", problems);
    names.regions = section_names(root.find("regions"), "region", problems);
    for (const std::string& f : names.firms) {
        const Tree* firm = firms->find(f);
        if (firm->is_map() && firm->find("chipmaker")) names.chipmakers.push_back(f);
    }
    for (const std::string& c : names.chips) {
        const Tree* vendor = chips->find(c)->is_map() ? chips->find(c)->find("vendor") : nullptr;
        if (vendor && vendor->is_scalar()) names.chip_vendor[c] = vendor->text;
    }
    names.contracts = contract_ids(root);
    return names;
}

void read_header(Scenario& sc, const Tree& t, const Where& w, Reader& r) {
    read_fields(sc, t, header_schema(), w, r);
    const Tree* start = t.find("start");
    const Tree* end = t.find("end");
    if (!start || !end || !parse_month(start->text) || !parse_month(end->text)) return;
    if (sc.end < sc.start)
        r.error(*end, w / "end", format_month(sc.end) + " is before start " + format_month(sc.start));
}

// chips:, regions:, firms: maps of name -> spec, stored sorted by name (id = index).
template <class Spec>
void read_named(std::vector<Spec>& out, const Tree& t, const Where& w, const Schema<Spec>& schema,
                Reader& r) {
    if (t.is_null()) return;
    if (!t.is_map()) {
        r.error(t, w, "expected a map {name: {...}}, found " + t.describe());
        return;
    }
    std::vector<const TreeEntry*> entries;
    for (const TreeEntry& e : t.entries) entries.push_back(&e);
    std::sort(entries.begin(), entries.end(),
              [](const TreeEntry* a, const TreeEntry* b) { return a->key < b->key; });
    for (const TreeEntry* e : entries) {
        Spec spec;
        spec.name = e->key;
        read_fields(spec, e->value, schema, (w / e->key).owned_by(e->key), r);
        out.push_back(std::move(spec));
    }
}

void read_firms(Scenario& sc, const Tree& t, const Where& w, Reader& r) {
    read_named(sc.firms, t, w, firm_schema(), r);
    if (t.is_map() && t.entries.empty()) r.error(t, w, "expected at least one firm");
    for (const FirmSpec& firm : sc.firms) {
        const Tree& given = *t.find(firm.name);
        const bool map_given = given.is_map() || given.is_null();  // anything else is reported already
        if (map_given && !firm.lab && !firm.cloud && !firm.chipmaker)
            r.error(given, w / firm.name, "a firm needs at least one role: lab, cloud or chipmaker");
    }
}

template <class Spec>
Field<Scenario> section(std::string key, Spec Scenario::*member, const Schema<Spec>& (*schema)(),
                        std::string owner, std::string doc) {
    return custom_field<Scenario>(
        std::move(key), "map", "defaults", std::move(doc),
        [member, schema, owner](Scenario& sc, const Tree& t, const Where& w, Reader& r) {
            read_fields(sc.*member, t, schema(), w.owned_by(owner), r);
        });
}

}  // namespace

const Schema<Scenario>& top_level_schema() {
    using S = Scenario;
    static const Schema<S> schema{
        custom_field<S>("scenario", "map", "required", "name, period, step, seed, replications; extends",
                        read_header),
        section("market", &S::market, market_schema, "market", "end market, spot and bargaining"),
        custom_field<S>("chips", "map", "{}", "chip families by name",
                        [](S& sc, const Tree& t, const Where& w, Reader& r) {
                            read_named(sc.chips, t, w, chip_schema(), r);
                        }),
        custom_field<S>("regions", "map", "{}", "power regions by name",
                        [](S& sc, const Tree& t, const Where& w, Reader& r) {
                            read_named(sc.regions, t, w, region_schema(), r);
                        }),
        custom_field<S>("firms", "map", "required", "firms by name, each with one or more roles", read_firms),
        custom_field<S>("equity", "map", "{}", "stakes at start: {holder: {target: share}}", read_equity),
        custom_field<S>("contracts", "list", "[]", "contracts in force at start", read_contracts),
        // Before events: their set/scale/shock targets are checked against every parameter read so far.
        section("agi", &S::agi, agi_schema, "agi", "the AGI panel"),
        custom_field<S>("events", "list", "[]", "scheduled events", read_events),
        section("outputs", &S::outputs, output_schema, "outputs", "what a run records"),
    };
    return schema;
}

namespace {

// Dated set, scale and shock events change a parameter from their month on;
// they are baked into the frozen parameter so the step loop pays nothing.
void apply_parameter_events(Scenario& sc, Problems& problems) {
    for (const EventSpec& e : sc.events) {
        if (!e.enabled || (e.kind != EventKind::set && e.kind != EventKind::scale && e.kind != EventKind::shock))
            continue;
        Param* param = find_param(sc, e.target);
        if (!param) {
            problems.add(Mark{sc.source_path, 0, 0},
                         "event " + in_quotes(e.id) + ": cannot change " + in_quotes(e.target) +
                             " (time-varying changes apply to scenario parameters, not to fleet entries)");
            continue;
        }
        const int months = e.at - sc.start;
        const int from_step = months <= 0 ? 0 : (months + sc.months_per_step - 1) / sc.months_per_step;
        param->change_from(from_step, sc.steps(), e.kind != EventKind::set, e.value);
    }
}

// The growth factors the step loop raises paths to, tabulated once here rather
// than by a pow each month in every replication (Param::power_at). The
// exponents are the ones the readers pass, computed the same way; a reader
// asking for one not tabulated here still gets the right value, by pow.
void tabulate_growth_factors(Scenario& sc) {
    const double years_per_step = sc.months_per_step / 12.0;  // World::years_per_step
    // engine/simulation.cpp phase_world: the end market grows by (1 + g) a year.
    sc.market.end_market_growth.tabulate_power(1.0, years_per_step);
    for (FirmSpec& firm : sc.firms) {
        // agents/lab.cpp lab_plan: training need grows by training_growth a year.
        if (firm.lab) firm.lab->training_growth.tabulate_power(0.0, years_per_step);
        // agents/cloud.cpp forecast_demand: demand and the own lab's training
        // need grown over the planning horizon.
        if (firm.cloud) {
            const double horizon_years = firm.cloud->forecast_horizon_months / 12.0;
            firm.cloud->demand_growth.tabulate_power(1.0, horizon_years);
            if (firm.lab) firm.lab->training_growth.tabulate_power(0.0, horizon_years);
        }
    }
}

}  // namespace

Scenario build_scenario(const Tree& root, Problems& problems) {
    Scenario sc;
    if (!root.is_map()) {
        problems.add(root.mark, "expected a map of sections (" + join(keys_of(top_level_schema())) +
                                    "), found " + root.describe());
        return sc;
    }
    Reader r(problems, collect_names(root, problems));
    read_fields(sc, root, top_level_schema(), Where{}, r);
    sc.uncertain = std::move(r.uncertain());
    if (problems.empty()) {
        for_each_param(sc, [&](Param& p) { p.tabulate(sc.start, sc.steps(), sc.months_per_step); });
        apply_parameter_events(sc, problems);
        tabulate_growth_factors(sc);
    }
    return sc;
}

}  // namespace entangle::loader
