// The schema of the scenario header, market, chips, regions, firms and their
// roles, the AGI panel and outputs: each key once, with unit, range and doc.
// Units and ranges follow the comments of engine/scenario.hpp.
#include "engine/scenario/sections.hpp"

#include <algorithm>

#include "engine/record.hpp"

namespace entangle::loader {

Where item_where(const Where& list, const Tree& item, std::size_t index) {
    const Tree* id = item.is_map() ? item.find("id") : nullptr;
    if (id && id->is_scalar() && is_valid_name(id->text)) return list / id->text;
    return Where(list.path() + "[" + std::to_string(index) + "]", list.owner());
}

// ---- scenario: ------------------------------------------------------------

const Schema<Scenario>& header_schema() {
    static const Schema<Scenario> schema{
        custom_field<Scenario>("name", "name", "required",
                               "the scenario's name, used in tables and as the default results file "
                               "(results/NAME.h5): lowercase letters, digits and '_', at most " +
                                   std::to_string(max_output_name_length) + " characters",
                               [](Scenario& sc, const Tree& t, const Where& w, Reader& r) {
                                   if (auto v = r.output_name(t, w)) sc.name = *v;
                               }),
        // The loader resolves extends (and removes it) before validation, so one
        // still here was given by --set, too late to change which files are read.
        custom_field<Scenario>("extends", "file path", "null",
                               "a scenario this file changes, relative to this file's directory",
                               [](Scenario&, const Tree& t, const Where& w, Reader& r) {
                                   if (!t.is_null())
                                       r.error(t, w, "--set cannot change which file a scenario extends");
                               }),
        month_field<Scenario>("start", &Scenario::start, "required", "first simulated month"),
        month_field<Scenario>("end", &Scenario::end, "required",
                              "last simulated month, inclusive; not before start"),
        choice_field<Scenario, int>("step", &Scenario::months_per_step, {{"month", 1}, {"quarter", 3}},
                                    "length of one step"),
        integer_field<Scenario>("seed", &Scenario::seed, non_negative, "",
                                "seed of every random stream of a run"),
        integer_field<Scenario>("replications", &Scenario::replications, Range{1, max_replications}, "",
                                "Monte Carlo replications of a run"),
    };
    return schema;
}

// ---- market: and agi: -----------------------------------------------------

const Schema<MarketSpec>& market_schema() {
    using M = MarketSpec;
    static const Schema<M> schema{
        param_field<M>("end_market_usd", &M::end_market_usd, non_negative, "USD per year",
                       "annual AI revenue pool at start (M0)"),
        param_field<M>("end_market_growth", &M::end_market_growth, at_least(-1), "per year",
                       "g: annual growth rate of the end market"),
        param_field<M>("end_market_volatility", &M::end_market_volatility, non_negative, "per sqrt(year)",
                       "sigma of the end market's random walk"),
        param_field<M>("capability_elasticity", &M::capability_elasticity, non_negative,
                       "per order of magnitude",
                       "demand uplift per order of magnitude of frontier capability gained"),
        param_field<M>("logit_alpha", &M::logit_alpha, non_negative, "per order of magnitude",
                       "sensitivity of market shares to capability"),
        param_field<M>("rho_usd_per_h100e_hour", &M::rho_usd_per_h100e_hour, positive, "USD per H100e-hour",
                       "inference revenue per H100e-hour"),
        param_field<M>("flop_per_h100e_month", &M::flop_per_h100e_month, positive, "FLOP",
                       "effective training FLOP per H100e-month"),
        param_field<M>("algo_doubling_months", &M::algo_doubling_months, positive, "months",
                       "months for the compute needed at fixed capability to halve"),
        integer_field<M>("capability_window_months", &M::capability_window_months, at_least(1), "months",
                         "W: window over which training compute counts towards capability"),
        choice_field<M, Bargaining>("bargaining", &M::bargaining,
                                    {{"nash", Bargaining::nash},
                                     {"rubinstein", Bargaining::rubinstein},
                                     {"posted", Bargaining::posted}},
                                    "bargaining protocol for new capacity contracts"),
        param_field<M>("lab_power", &M::lab_power, unit_interval, "", "beta: the lab's bargaining power (nash)"),
        param_field<M>("lab_discount", &M::lab_discount, unit_interval, "per month",
                       "rubinstein: the lab's discount factor"),
        param_field<M>("seller_discount", &M::seller_discount, unit_interval, "per month",
                       "rubinstein: the seller's discount factor"),
        param_field<M>("posted_markup", &M::posted_markup, non_negative, "",
                       "posted: the seller's price is its levelised cost times (1 + markup)"),
        param_field<M>("interest_rate", &M::interest_rate, unit_interval, "per year", "rate on firms' debt"),
        param_field<M>("firm_revenue_multiple", &M::firm_revenue_multiple, non_negative, "",
                       "value per USD of annual revenue of a firm's business other than its lab (for valuations)"),
    };
    return schema;
}

const Schema<AgiSpec>& agi_schema() {
    static const Schema<AgiSpec> schema{
        param_field<AgiSpec>("threshold", &AgiSpec::threshold, any_value, "log10 FLOP",
                             "capability the AGI panel looks for (the default is never reached)"),
        param_field<AgiSpec>("monthly_hazard", &AgiSpec::monthly_hazard, unit_interval, "per month",
                             "chance per month that the panel declares AGI once the threshold is passed"),
    };
    return schema;
}

// ---- chips: and regions: --------------------------------------------------

namespace {

bool has(const std::vector<std::string>& words, std::string_view word) {
    return std::find(words.begin(), words.end(), word) != words.end();
}

void read_vendor(ChipSpec& chip, const Tree& t, const Where& w, Reader& r) {
    const auto firm = r.firm(t, w);
    if (!firm) return;
    const std::vector<std::string>& makers = r.names().chipmakers;
    if (!has(makers, t.text)) {
        r.error(t, w,
                "firm " + in_quotes(t.text) + " has no chipmaker role (" +
                    (makers.empty() ? std::string("no firm has one") : "chipmakers: " + join(makers)) + ")");
        return;
    }
    chip.vendor = *firm;
}

void read_sold_to(ChipSpec& chip, const Tree& t, const Where& w, Reader& r) {
    if (t.is_scalar() && t.text == "any") {
        chip.sold_to_any = true;
        return;
    }
    if (!t.is_list()) {
        r.error(t, w, "expected 'any' or a list of firms, found " + t.describe());
        return;
    }
    if (auto firms = r.firms(t, w)) chip.sold_to_any = false, chip.sold_to = std::move(*firms);
}

}  // namespace

const Schema<ChipSpec>& chip_schema() {
    using C = ChipSpec;
    static const Schema<C> schema{
        custom_field<C>("vendor", "firm", "required", "the firm that makes it; it needs a chipmaker role",
                        read_vendor),
        month_field<C>("release", &C::release, "required", "first month it can ship"),
        param_field<C>("h100e", &C::h100e, positive, "H100e per unit", "compute of one unit"),
        param_field<C>("power_kw", &C::power_kw, positive, "kW per unit",
                       "power drawn per unit, cooling included"),
        param_field<C>("unit_cost", &C::unit_cost, non_negative, "USD per unit", "production cost"),
        param_field<C>("list_price", &C::list_price, positive, "USD per unit", "price at release"),
        integer_field<C>("lifetime_months", &C::lifetime_months, at_least(1), "months",
                         "service life of a unit"),
        choice_field<C, Workload>("workload", &C::workload,
                                  {{"any", Workload::any}, {"inference", Workload::inference}},
                                  "what the chip can run"),
        param_field<C>("software_factor", &C::software_factor, positive_share, "",
                       "share of nominal throughput a buyer realises"),
        custom_field<C>("sold_to", "any | [firm, ...]", "any",
                        "who may buy it: anyone, or the listed firms only", read_sold_to),
        param_field<C>("age_decay", &C::age_decay, unit_interval, "per year",
                       "fractional price fall per year once a newer family of the vendor ships"),
    };
    return schema;
}

const Schema<RegionSpec>& region_schema() {
    using R = RegionSpec;
    static const Schema<R> schema{
        param_field<R>("power_mw", &R::power_mw, non_negative, "MW",
                       "power available to datacenters at start"),
        param_field<R>("interconnect_mw_per_month", &R::interconnect_mw_per_month, non_negative,
                       "MW per month", "power added to the grid each month"),
        param_field<R>("max_mw", &R::max_mw, non_negative, "MW", "ceiling on available power"),
        param_field<R>("power_usd_per_mwh", &R::power_usd_per_mwh, non_negative, "USD per MWh",
                       "price of power"),
        integer_field<R>("build_months", &R::build_months, non_negative, "months",
                         "datacenter construction time"),
        custom_field<R>("delay", "distribution", "none",
                        "extra months of delay drawn for each project (rounded; clamped to >= 0)",
                        [](R& region, const Tree& t, const Where& w, Reader& r) {
                            if (auto d = r.distribution(t, w, non_negative)) region.delay = *d;
                        }),
    };
    return schema;
}

// ---- firms: ---------------------------------------------------------------

namespace {

// {chip: param}: what the chipmaker can make of each of its own chip families.
void read_capacity(ChipmakerRole& role, const Tree& t, const Where& w, Reader& r) {
    if (!t.is_map()) {
        r.error(t, w, "expected a map {chip: units per month}, found " + t.describe());
        return;
    }
    for (const TreeEntry& e : t.entries) {
        const Tree key = e.key_node();
        const auto chip = r.chip(key, w);
        if (!chip) continue;
        const auto vendor = r.names().chip_vendor.find(e.key);
        if (vendor != r.names().chip_vendor.end() && vendor->second != w.owner()) {
            r.error(key, w,
                    "chip " + in_quotes(e.key) + " is made by " + in_quotes(vendor->second) + ", not by " +
                        in_quotes(w.owner()));
            continue;
        }
        r.note_param_path(w / e.key);
        if (auto p = r.param(e.value, w / e.key, non_negative))
            role.capacity_per_month.emplace_back(*chip, *p);
    }
    std::sort(role.capacity_per_month.begin(), role.capacity_per_month.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
}

void read_power_online(CloudRole& role, const Tree& t, const Where& w, Reader& r) {
    if (!t.is_map()) {
        r.error(t, w, "expected a map {region: MW}, found " + t.describe());
        return;
    }
    for (const TreeEntry& e : t.entries) {
        const auto region = r.region(e.key_node(), w);
        r.note_param_path(w / e.key);
        const auto mw = r.param(e.value, w / e.key, non_negative);
        if (region && mw) role.power_online.push_back(RegionPower{*region, *mw});
    }
    std::sort(role.power_online.begin(), role.power_online.end(),
              [](const RegionPower& a, const RegionPower& b) { return a.region < b.region; });
}

void read_fleet(CloudRole& role, const Tree& t, const Where& w, Reader& r) {
    if (!t.is_list()) {
        r.error(t, w, "expected a list of {chip, region, units, age_months}, found " + t.describe());
        return;
    }
    for (std::size_t i = 0; i < t.items.size(); ++i) {
        FleetHolding holding;
        read_fields(holding, t.items[i], fleet_schema(), item_where(w, t.items[i], i), r);
        role.fleet.push_back(std::move(holding));
    }
}

}  // namespace

const Schema<FleetHolding>& fleet_schema() {
    using H = FleetHolding;
    static const Schema<H> schema{
        custom_field<H>("chip", "chip", "required", "chip family",
                        [](H& h, const Tree& t, const Where& w, Reader& r) {
                            if (auto c = r.chip(t, w)) h.chip = *c;
                        }),
        custom_field<H>("region", "region", "required", "where the units are installed",
                        [](H& h, const Tree& t, const Where& w, Reader& r) {
                            if (auto g = r.region(t, w)) h.region = *g;
                        }),
        param_field<H>("units", &H::units, non_negative, "units", "units installed at start"),
        integer_field<H>("age_months", &H::age_months, non_negative, "months", "average age at start"),
    };
    return schema;
}

const Schema<ChipmakerRole>& chipmaker_schema() {
    using K = ChipmakerRole;
    static const Schema<K> schema{
        custom_field<K>("capacity_per_month", "{chip: param}", "{}",
                        "units per month each of its chip families can be produced at (>= 0)", read_capacity),
        choice_field<K, ChipPricing>("pricing", &K::pricing,
                                     {{"backlog", ChipPricing::backlog}, {"cournot", ChipPricing::cournot}},
                                     "how it sets prices"),
        choice_field<K, Allocation>("allocation", &K::allocation,
                                    {{"pro_rata", Allocation::pro_rata},
                                     {"fifo", Allocation::fifo},
                                     {"strategic", Allocation::strategic}},
                                    "how it shares out scarce output"),
        param_field<K>("kappa", &K::kappa, non_negative, "per month of backlog",
                       "price response per month of excess backlog"),
        param_field<K>("backlog_target_months", &K::backlog_target_months, non_negative, "months of output",
                       "backlog it aims for"),
        param_field<K>("min_margin", &K::min_margin, non_negative, "",
                       "price floor = unit_cost * (1 + min_margin)"),
        param_field<K>("max_multiple", &K::max_multiple, at_least(1), "",
                       "price ceiling = list_price * max_multiple"),
        param_field<K>("strategic_weight", &K::strategic_weight, non_negative, "",
                       "allocation weight 1 + w * stake under strategic allocation"),
        param_field<K>("cournot_demand_intercept", &K::cournot_demand_intercept, positive, "USD per unit",
                       "a of the inverse demand p = a - b*Q"),
        param_field<K>("cournot_demand_slope", &K::cournot_demand_slope, positive, "USD per unit per unit",
                       "b of the inverse demand p = a - b*Q"),
        param_field<K>("cash", &K::cash, any_value, "USD",
                       "cash at start (a firm's cash is the sum over its roles)"),
    };
    return schema;
}

const Schema<CloudRole>& cloud_schema() {
    using D = CloudRole;
    static const Schema<D> schema{
        flag_field<D>("sells_capacity", &D::sells_capacity, "whether it sells capacity to others"),
        custom_field<D>("regions", "[region, ...]", "required", "where it builds, in order of preference",
                        [](D& cloud, const Tree& t, const Where& w, Reader& r) {
                            const auto ids = r.references(t, w, "region", r.names().regions);
                            if (ids && ids->empty()) r.error(t, w, "expected at least one region");
                            if (ids) cloud.regions = *ids;
                        }),
        custom_field<D>("fleet", "[{chip, region, units, age_months}, ...]", "[]",
                        "accelerators installed at start", read_fleet),
        custom_field<D>("power_online", "{region: param}", "{}",
                        "datacenter power online for it at start, MW (>= 0)", read_power_online),
        param_field<D>("wacc", &D::wacc, unit_interval, "per year", "cost of capital"),
        param_field<D>("dc_capex_per_mw", &D::dc_capex_per_mw, non_negative, "USD per MW",
                       "datacenter build cost"),
        integer_field<D>("dc_life_months", &D::dc_life_months, at_least(1), "months", "datacenter life"),
        param_field<D>("om_rate", &D::om_rate, non_negative, "per year",
                       "operations and maintenance as a share of chip price"),
        param_field<D>("target_utilisation", &D::target_utilisation, positive_share, "",
                       "utilisation it plans for"),
        param_field<D>("eta", &D::eta, non_negative, "", "scarcity exponent of its spot ask"),
        param_field<D>("capex_budget", &D::capex_budget, non_negative, "USD per year",
                       "spending on chips and datacenters"),
        param_field<D>("max_leverage", &D::max_leverage, non_negative, "",
                       "debt at most this multiple of fleet book value"),
        param_field<D>("demand_growth", &D::demand_growth, at_least(-1), "per year",
                       "growth of its demand it assumes when planning"),
        integer_field<D>("forecast_horizon_months", &D::forecast_horizon_months, at_least(1), "months",
                         "planning horizon"),
        param_field<D>("spot_ewma_weight", &D::spot_ewma_weight, positive_share, "",
                       "weight of the latest month in its average of spot sales"),
        param_field<D>("cash", &D::cash, any_value, "USD", "cash at start"),
        param_field<D>("exclusivity_discount", &D::exclusivity_discount, Range{0, 1, false, true}, "",
                       "price cut it offers a lab in a procurement round for an exclusive contract (0: no offers)"),
        integer_field<D>("exclusivity_months", &D::exclusivity_months, at_least(1), "months",
                         "term of the exclusive contracts it offers"),
    };
    return schema;
}

// investors: {firm: {budget_usd: USD, in_kind: bool}}, in the order written.
void read_investors(LabRole& role, const Tree& t, const Where& w, Reader& r) {
    if (!t.is_map()) {
        r.error(t, w, "expected a map {investor: {budget_usd: USD, in_kind: true|false}}, found " + t.describe());
        return;
    }
    for (const TreeEntry& e : t.entries) {
        const auto firm = r.firm(e.key_node(), w);
        const Where iw = w / e.key;
        if (!e.value.is_map()) {
            r.error(e.value, iw, "expected a map {budget_usd: USD, in_kind: true|false}, found " + e.value.describe());
            continue;
        }
        r.check_keys(e.value, {"budget_usd", "in_kind"}, iw);
        StrategicInvestor investor;
        std::optional<double> budget;
        if (const Tree* b = e.value.find("budget_usd")) budget = r.number(*b, iw / "budget_usd", non_negative);
        else r.error(e.value, iw, "missing required key 'budget_usd'");
        if (const Tree* k = e.value.find("in_kind"))
            if (auto flag = r.boolean(*k, iw / "in_kind")) investor.in_kind = *flag;
        if (!firm || !budget) continue;
        investor.firm = *firm;
        investor.budget_usd = *budget;
        role.investors.push_back(investor);
    }
}

const Schema<LabRole>& lab_schema() {
    using L = LabRole;
    static const Schema<L> schema{
        param_field<L>("cash", &L::cash, any_value, "USD", "cash at start"),
        param_field<L>("train0_h100e", &L::train0_h100e, non_negative, "H100e",
                       "training compute needed at start"),
        param_field<L>("training_growth", &L::training_growth, positive, "per year",
                       "annual multiple of the training need"),
        param_field<L>("catch_up", &L::catch_up, non_negative, "per order of magnitude",
                       "extra training need per order of magnitude behind the frontier"),
        param_field<L>("max_catch_up", &L::max_catch_up, non_negative, "orders of magnitude",
                       "cap on the gap counted"),
        param_field<L>("strategic_value", &L::strategic_value, non_negative, "USD per H100e-hour",
                       "value of needed compute"),
        param_field<L>("urgency", &L::urgency, non_negative, "", "value uplift per unit share of unmet need"),
        param_field<L>("train_share", &L::train_share, unit_interval, "", "share of its compute that trains"),
        param_field<L>("capability0", &L::capability0, non_negative, "log10 FLOP", "capability at start"),
        param_field<L>("talent_factor", &L::talent_factor, positive, "", "multiplies algorithmic efficiency"),
        param_field<L>("brand", &L::brand, any_value, "logit utility", "brand term of its end-market share"),
        param_field<L>("distribution", &L::distribution, any_value, "logit utility",
                       "distribution term of its end-market share"),
        param_field<L>("opex_usd_per_month", &L::opex_usd_per_month, non_negative, "USD per month",
                       "wages and costs outside compute"),
        param_field<L>("revenue_multiple", &L::revenue_multiple, non_negative, "",
                       "valuation / annual revenue"),
        param_field<L>("psi", &L::psi, non_negative, "per order of magnitude",
                       "valuation premium per order of magnitude of lead"),
        param_field<L>("valuation_floor", &L::valuation_floor, non_negative, "USD",
                       "valuation of a lab with little revenue"),
        param_field<L>("runway_months", &L::runway_months, non_negative, "months",
                       "it raises money when cash covers fewer months of burn"),
        param_field<L>("raise_fraction", &L::raise_fraction, unit_interval, "",
                       "share of valuation raised in a round"),
        integer_field<L>("funding_cooldown_months", &L::funding_cooldown_months, non_negative, "months",
                         "months between funding rounds"),
        param_field<L>("funding_capacity", &L::funding_capacity, non_negative, "USD",
                       "money it could raise at once, counted in what it can afford"),
        param_field<L>("contract_share", &L::contract_share, unit_interval, "",
                       "share of its forecast need it covers with term capacity contracts (0: spot only)"),
        integer_field<L>("contract_term_months", &L::contract_term_months, at_least(1), "months",
                         "term of the capacity contracts it signs"),
        integer_field<L>("procurement_interval_months", &L::procurement_interval_months, at_least(1), "months",
                         "months between its procurement rounds"),
        param_field<L>("max_supplier_share", &L::max_supplier_share, positive_share, "",
                       "most of a round's quantity it buys from one seller (diversification)"),
        param_field<L>("price_dispersion", &L::price_dispersion, non_negative, "USD per H100e-hour",
                       "what it expects to save by shopping around: the option value it gives up per H100e-hour "
                       "when it accepts exclusivity"),
        custom_field<L>("investors", "{firm: {budget_usd, in_kind}}", "{}",
                        "strategic investors in its funding rounds, in order: each takes up to its remaining "
                        "budget_usd (USD over the run) at the post-money price, in cash or (in_kind: true) as "
                        "credits with its cloud; outside money takes the rest",
                        read_investors),
    };
    return schema;
}

namespace {

template <class Role>
Field<FirmSpec> role_field(std::string key, std::optional<Role> FirmSpec::*member,
                           const Schema<Role>& (*schema)(), std::string doc) {
    return custom_field<FirmSpec>(std::move(key), "map", "none", std::move(doc),
                                  [member, schema](FirmSpec& firm, const Tree& t, const Where& w, Reader& r) {
                                      read_fields((firm.*member).emplace(), t, schema(), w, r);
                                  });
}

}  // namespace

const Schema<FirmSpec>& firm_schema() {
    static const Schema<FirmSpec> schema{
        role_field("lab", &FirmSpec::lab, lab_schema, "an AI lab: trains models and sells to the end market"),
        role_field("cloud", &FirmSpec::cloud, cloud_schema,
                   "a cloud: builds datacenters, installs chips, sells capacity"),
        role_field("chipmaker", &FirmSpec::chipmaker, chipmaker_schema,
                   "a chipmaker: makes and prices chip families"),
    };
    return schema;
}

// ---- outputs: -------------------------------------------------------------

namespace {

std::vector<std::string> series_names() {
    std::vector<std::string> names;
    for (const SeriesInfo& s : firm_series_info) names.emplace_back(s.name);
    for (const SeriesInfo& s : market_series_info) names.emplace_back(s.name);
    for (const SeriesInfo& s : chip_series_info) names.emplace_back(s.name);
    return names;
}

void read_series(OutputSpec& out, const Tree& t, const Where& w, Reader& r) {
    if (t.is_scalar() && t.text == "all") {
        out.all_series = true;
        return;
    }
    if (!t.is_list()) {
        r.error(t, w, "expected 'all' or a list of series names, found " + t.describe());
        return;
    }
    const std::vector<std::string> valid = series_names();
    out.all_series = false;
    out.series.clear();
    for (const Tree& item : t.items) {
        if (item.is_scalar() && has(valid, item.text))
            out.series.push_back(item.text);
        else
            r.error(item, w,
                    "unknown series " + item.describe() +
                        (item.is_scalar() ? did_you_mean(item.text, valid) : "") +
                        " (series: " + join(valid) + ")");
    }
}

}  // namespace

const Schema<OutputSpec>& output_schema() {
    using O = OutputSpec;
    static const Schema<O> schema{
        custom_field<O>("series", "all | [name, ...]", "all",
                        "series to record: all, or names of firm, market and chip series (docs/results.md)",
                        read_series),
        flag_field<O>("network", &O::network, "record the capacity-flow and equity matrices"),
        integer_field<O>("every", &O::every, at_least(1), "steps", "record every n-th step"),
    };
    return schema;
}

// ---- every Param ----------------------------------------------------------

namespace {
template <class Spec>
void each_field_param(Spec& spec, const Schema<Spec>& schema, const std::function<void(Param&)>& f) {
    for (const Field<Spec>& field : schema)
        if (field.param) f(spec.*field.param);
}
}  // namespace

namespace {
template <class Spec>
Param* field_param(Spec& spec, const Schema<Spec>& schema, std::string_view key) {
    for (const Field<Spec>& field : schema)
        if (field.param && field.key == key) return &(spec.*field.param);
    return nullptr;
}

template <class Spec>
Spec* by_name(std::vector<Spec>& specs, std::string_view name) {
    for (Spec& s : specs)
        if (s.name == name) return &s;
    return nullptr;
}
}  // namespace

Param* find_param(Scenario& sc, std::string_view path) {
    std::vector<std::string_view> part;
    for (std::size_t start = 0; start <= path.size();) {
        const std::size_t dot = std::min(path.find('.', start), path.size());
        part.push_back(path.substr(start, dot - start));
        start = dot + 1;
    }
    const auto at = [&](std::size_t i) { return i < part.size() ? part[i] : std::string_view{}; };
    if (part.size() == 2 && at(0) == "market") return field_param(sc.market, market_schema(), at(1));
    if (part.size() == 2 && at(0) == "agi") return field_param(sc.agi, agi_schema(), at(1));
    if (part.size() == 3 && at(0) == "chips")
        if (ChipSpec* c = by_name(sc.chips, at(1))) return field_param(*c, chip_schema(), at(2));
    if (part.size() == 3 && at(0) == "regions")
        if (RegionSpec* g = by_name(sc.regions, at(1))) return field_param(*g, region_schema(), at(2));
    if (part.size() < 4 || at(0) != "firms") return nullptr;
    FirmSpec* firm = by_name(sc.firms, at(1));
    if (!firm) return nullptr;
    if (at(2) == "lab" && firm->lab && part.size() == 4) return field_param(*firm->lab, lab_schema(), at(3));
    if (at(2) == "chipmaker" && firm->chipmaker) {
        if (part.size() == 4) return field_param(*firm->chipmaker, chipmaker_schema(), at(3));
        if (part.size() == 5 && at(3) == "capacity_per_month")
            for (auto& [chip, capacity] : firm->chipmaker->capacity_per_month)
                if (sc.chips[chip].name == at(4)) return &capacity;
    }
    if (at(2) == "cloud" && firm->cloud) {
        CloudRole& cloud = *firm->cloud;
        if (part.size() == 4 && at(3).starts_with("fleet[")) return nullptr;
        if (part.size() == 4) return field_param(cloud, cloud_schema(), at(3));
        if (part.size() == 5 && at(3) == "power_online")
            for (RegionPower& p : cloud.power_online)
                if (sc.regions[p.region].name == at(4)) return &p.mw;
        if (part.size() == 5 && at(3).starts_with("fleet[") && at(3).ends_with("]")) {
            const std::string_view digits = at(3).substr(6, at(3).size() - 7);
            std::size_t index = 0;
            for (char ch : digits) index = index * 10 + static_cast<std::size_t>(ch - '0');
            if (index < cloud.fleet.size()) return field_param(cloud.fleet[index], fleet_schema(), at(4));
        }
    }
    return nullptr;
}

void for_each_param(Scenario& sc, const std::function<void(Param&)>& f) {
    each_field_param(sc.market, market_schema(), f);
    each_field_param(sc.agi, agi_schema(), f);
    for (ChipSpec& c : sc.chips) each_field_param(c, chip_schema(), f);
    for (RegionSpec& g : sc.regions) each_field_param(g, region_schema(), f);
    for (FirmSpec& firm : sc.firms) {
        if (firm.lab) each_field_param(*firm.lab, lab_schema(), f);
        if (firm.chipmaker) {
            each_field_param(*firm.chipmaker, chipmaker_schema(), f);
            for (auto& [chip, capacity] : firm.chipmaker->capacity_per_month) f(capacity);
        }
        if (firm.cloud) {
            each_field_param(*firm.cloud, cloud_schema(), f);
            for (FleetHolding& h : firm.cloud->fleet) each_field_param(h, fleet_schema(), f);
            for (RegionPower& p : firm.cloud->power_online) f(p.mw);
        }
    }
}

}  // namespace entangle::loader
