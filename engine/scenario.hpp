#pragma once
// The resolved, validated, immutable description of a scenario. The YAML
// loader (engine/scenario/) is the only producer; every replication reads it
// and none writes it. Field names are the scenario file's keys (docs/scenarios.md).
//
// Every real-valued field is a Param: a constant, a time path or an uncertain
// value (MODEL.md section 2). Integer fields (months, counts) are plain ints.
// Comments give: unit; valid range. The in-class initialiser is the default.
//
// Firms, chips and regions are referred to by small integer ids: their index
// in the vectors below, which are sorted by name so that "visit every firm in
// name order" (MODEL.md section 4) is "visit ids in order".
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/param.hpp"
#include "engine/time.hpp"

namespace entangle {

using FirmId = std::uint16_t;
using ChipId = std::uint16_t;
using RegionId = std::uint16_t;
inline constexpr FirmId no_firm = 0xffff;

inline constexpr double hours_per_month = 730.0;

enum class Workload : std::uint8_t { any, inference };
enum class ChipPricing : std::uint8_t { backlog, cournot };
enum class Allocation : std::uint8_t { pro_rata, fifo, strategic };
enum class Bargaining : std::uint8_t { nash, rubinstein, posted };

inline Param C(double v) { return Param::constant(v); }

struct ChipSpec {
    std::string name;
    FirmId vendor = no_firm;          // required: a firm with a chipmaker role
    Month release;                    // required: first month it can ship (YYYY-MM)
    Param h100e = C(1.0);             // H100e per unit; > 0
    Param power_kw = C(1.4);          // kW per unit all-in (cooling included); > 0
    Param unit_cost = C(3300);        // USD production cost per unit; >= 0
    Param list_price = C(25000);      // USD per unit at release; > 0
    int lifetime_months = 60;         // months; >= 1
    Workload workload = Workload::any;  // any | inference
    Param software_factor = C(1.0);   // share of nominal throughput a buyer realises; (0, 1]
    bool sold_to_any = true;          // sold_to: any | [firm, ...]
    std::vector<FirmId> sold_to;
    Param age_decay = C(0.3);         // fractional price fall per year once a newer family of the vendor ships; [0, 1]
};

struct RegionSpec {
    std::string name;
    Param power_mw = C(0);                     // MW available to datacenters at start; >= 0
    Param interconnect_mw_per_month = C(50);   // MW added per month; >= 0
    Param max_mw = C(1e9);                     // MW ceiling on available power; >= 0
    Param power_usd_per_mwh = C(70);           // USD per MWh; >= 0
    int build_months = 18;                     // construction lead time, months; >= 0
    std::optional<Distribution> delay;         // extra months per project (rounded, >= 0); a distribution only
};

struct ChipmakerRole {
    // Units per month each family can be produced at (advanced-packaging allocation); >= 0.
    // YAML: capacity_per_month: {chip_name: number | path | distribution}
    std::vector<std::pair<ChipId, Param>> capacity_per_month;
    ChipPricing pricing = ChipPricing::backlog;   // backlog | cournot
    Allocation allocation = Allocation::pro_rata; // pro_rata | fifo | strategic
    Param kappa = C(0.05);                  // price response per month of excess backlog; >= 0
    Param backlog_target_months = C(3);     // months of output; >= 0
    Param min_margin = C(0.2);              // floor = unit_cost*(1+min_margin); >= 0
    Param max_multiple = C(2.0);            // ceiling = list_price*max_multiple; >= 1
    Param strategic_weight = C(1.0);        // allocation weight 1 + w*stake; >= 0
    Param cournot_demand_intercept = C(60000);  // a of p = a - b*Q, USD per unit; > 0
    Param cournot_demand_slope = C(0.01);       // b, USD per unit per unit; > 0
    Param cash = C(0);                      // USD at start (a firm's cash is the sum over its roles)
};

struct FleetHolding {
    ChipId chip = 0;        // required
    RegionId region = 0;    // required
    Param units = C(0);     // units installed at start; >= 0
    int age_months = 12;    // average age at start; >= 0
};

struct RegionPower {
    RegionId region = 0;
    Param mw = C(0);  // datacenter power online for this cloud at start; >= 0
};

struct CloudRole {
    bool sells_capacity = true;
    std::vector<RegionId> regions;      // where it builds, in order of preference; required, non-empty
    std::vector<FleetHolding> fleet;    // YAML: list of {chip, region, units, age_months}
    std::vector<RegionPower> power_online;  // YAML: power_online: {region_name: MW}
    Param wacc = C(0.10);               // annual; [0, 1]
    Param dc_capex_per_mw = C(11e6);    // USD per MW; >= 0
    int dc_life_months = 180;           // months; >= 1
    Param om_rate = C(0.05);            // annual O&M as a share of chip price; >= 0
    Param target_utilisation = C(0.8);  // (0, 1]
    Param eta = C(1.5);                 // scarcity exponent of the spot ask; >= 0
    Param capex_budget = C(1e10);       // USD per year for chips and datacenters; >= 0
    Param max_leverage = C(2.0);        // debt at most this multiple of fleet book value; >= 0
    Param demand_growth = C(0.5);       // annual growth it assumes of its demand when planning; >= -1
    int forecast_horizon_months = 12;   // months; >= 1
    Param spot_ewma_weight = C(0.3);    // weight of the latest month in its EWMA of spot sales; (0, 1]
    Param cash = C(0);                  // USD at start
    Param exclusivity_discount = C(0);  // price cut it offers a lab for exclusivity; [0, 1) (0: no offers)
    int exclusivity_months = 24;        // term of the exclusive contracts it offers; >= 1
};

// A firm that takes part in a lab's funding rounds (MODEL.md 5.3).
struct StrategicInvestor {
    FirmId firm = 0;
    double budget_usd = 0;  // the most it puts in over the run
    bool in_kind = false;   // pays in capacity credits with its cloud rather than cash
};

struct LabRole {
    Param cash = C(0);                    // USD at start
    Param train0_h100e = C(10000);        // training compute needed at start, H100e; >= 0
    Param training_growth = C(3.0);       // annual multiple of training need; > 0
    Param catch_up = C(0.5);              // extra training need per order of magnitude behind; >= 0
    Param max_catch_up = C(1.0);          // cap on the gap, orders of magnitude; >= 0
    Param strategic_value = C(6.0);       // USD per H100e-hour for needed compute; >= 0
    Param urgency = C(0.5);               // value uplift per unit share of unmet need; >= 0
    Param train_share = C(0.5);           // share of compute that trains; [0, 1]
    Param capability0 = C(24.0);          // log10 effective training FLOP at start; >= 0
    Param talent_factor = C(1.0);         // multiplies algorithmic efficiency; > 0
    Param brand = C(0.0);                 // logit utility term
    Param distribution = C(0.0);          // logit utility term
    Param opex_usd_per_month = C(0);      // wages and costs outside compute, USD per month; >= 0
    Param revenue_multiple = C(15);       // valuation / annual revenue; >= 0
    Param psi = C(1.0);                   // valuation premium per order of magnitude of lead; >= 0
    Param valuation_floor = C(1e9);       // USD: valuation of a lab with little revenue; >= 0
    Param runway_months = C(12);          // raise when cash covers fewer months of burn; >= 0
    Param raise_fraction = C(0.15);       // share of valuation raised in a round; [0, 1]
    int funding_cooldown_months = 6;      // months between rounds; >= 0
    Param funding_capacity = C(0);        // USD it could raise at once, counted in affordability; >= 0
    Param contract_share = C(0);          // share of forecast need it covers with term contracts; [0, 1] (0: spot only)
    int contract_term_months = 12;        // term of the capacity contracts it signs; >= 1
    int procurement_interval_months = 6;  // months between procurement rounds; >= 1
    Param max_supplier_share = C(1.0);    // most of a round's quantity it buys from one seller; (0, 1]
    Param price_dispersion = C(0.5);      // USD per H100e-hour it expects to save by shopping around; >= 0
    std::vector<StrategicInvestor> investors;  // take part in its funding rounds, in this order
};

struct FirmSpec {
    std::string name;
    std::optional<LabRole> lab;
    std::optional<CloudRole> cloud;
    std::optional<ChipmakerRole> chipmaker;
};

struct EquityStake {
    FirmId holder = 0;
    FirmId target = 0;
    double share = 0;  // fraction of target held; [0, 1]; a target's holders sum to <= 1
};

enum class ContractKind : std::uint8_t { capacity, chip_supply, commitment, licence, revenue_share, equity };

// A contract as written in a scenario or an event. Fields not used by a kind stay at defaults.
struct ContractSpec {
    std::string id;            // required, unique
    ContractKind kind = ContractKind::capacity;
    FirmId seller = no_firm;   // provider, vendor, licensor, payee, investee
    FirmId buyer = no_firm;    // user, licensee, payer, investor
    Month signed_at;           // defaults to start
    Month start;               // required
    Month end;                 // last month in force (inclusive); or term_months from start
    double quantity_h100e = 0;
    double price_usd_per_h100e_hour = 0;
    int ramp_months = 0;
    ChipId chip = 0;           // chip_supply
    double units_per_month = 0;
    double unit_price = 0;
    double value_usd = 0;      // commitment, equity
    double fee_usd_per_year = 0;
    double share = 0;          // revenue_share
    bool exclusive = false, rofr = false, until_agi = false, in_kind = false, priority = false;
    bool waivable = true;      // false: the holder never sells a waiver of its clauses (section 8)
    double sla_credit = 0, take_or_pay = 0;
};

enum class EventKind : std::uint8_t { sign, forbid, amend, terminate, set, scale, acquire, invest, shock, declare_agi };

// The contract keys an `amend` event may change (their ContractSpec names),
// read by the loader and applied by the engine from this one list.
inline constexpr std::string_view amendable_contract_keys[] = {
    "end",       "quantity_h100e", "price_usd_per_h100e_hour", "units_per_month", "unit_price",
    "value_usd", "fee_usd_per_year", "share", "exclusive", "rofr", "until_agi", "waivable", "sla_credit", "take_or_pay"};

// Kept as parsed for the deals issue: the loader validates the common fields.
struct EventSpec {
    std::string id;
    Month at;
    EventKind kind = EventKind::sign;
    bool enabled = true;
    std::optional<ContractSpec> contract;   // sign, invest
    std::vector<FirmId> firms;              // forbid, acquire (acquirer, target), declare_agi
    std::string target;                     // amend/terminate: contract id; set/scale/shock: key path
    ContractSpec changes;                   // amend: the new values of changed_keys
    std::vector<std::string> changed_keys;  // amend: from amendable_contract_keys
    double value = 0;                       // set/scale/shock multiplier or value; acquire price
    Month until;                            // forbid: last month of the window
    std::string text;                       // free text for the events table
};

struct MarketSpec {
    Param end_market_usd = C(5e9);            // annual AI revenue pool at start (M0), USD; >= 0
    Param end_market_growth = C(1.0);         // g: annual growth rate; >= -1
    Param end_market_volatility = C(0.2);     // sigma per sqrt(year); >= 0
    Param capability_elasticity = C(0.3);     // demand uplift per order of magnitude of frontier gain; >= 0
    Param logit_alpha = C(1.0);               // share sensitivity to capability; >= 0
    Param rho_usd_per_h100e_hour = C(4.0);    // inference revenue per H100e-hour, USD; > 0
    Param flop_per_h100e_month = C(1.05e21);  // effective FLOP per H100e-month of training; > 0
    Param algo_doubling_months = C(8);        // months for compute at fixed capability to halve; > 0
    int capability_window_months = 12;        // W, months; >= 1
    Bargaining bargaining = Bargaining::nash; // nash | rubinstein | posted (used from the deals issue on)
    Param lab_power = C(0.5);                 // beta; [0, 1]
    Param lab_discount = C(0.95);             // rubinstein: the lab's monthly discount factor; [0, 1]
    Param seller_discount = C(0.95);          // rubinstein: the seller's monthly discount factor; [0, 1]
    Param posted_markup = C(0.2);             // posted: price = levelised cost * (1 + markup); >= 0
    Param interest_rate = C(0.08);            // annual rate on firms' debt; [0, 1]
    Param firm_revenue_multiple = C(5);       // value / annual revenue of business other than a lab; >= 0
};

struct AgiSpec {
    Param threshold = C(1e9);    // capability (log10 FLOP) the panel looks for
    Param monthly_hazard = C(0.05);  // [0, 1]
};

struct OutputSpec {
    bool all_series = true;           // series: all | [name, ...]
    std::vector<std::string> series;  // when !all_series: names from engine/record.hpp
    bool network = true;
    int every = 1;                    // record every n-th step; >= 1
};

// Replications of a run, a comparison or a sweep point, at most (the file's key, a sweep's
// and --replications alike). Results hold [points x replications x times x firms] doubles
// per series, and the writer, compare and a sweep point hold buffers per replication: a
// million replications of the bundled baseline already make a results file of about
// 200 GB (0.2 MB each, compressed), while 2147483647 failed in allocation (std::bad_alloc,
// exit 1) with a .partial left behind.
inline constexpr int max_replications = 1'000'000;

struct Scenario {
    std::string name;             // required
    std::string source_path;      // the file it was loaded from
    std::string resolved_yaml;    // the fully merged scenario text, for the results file
    Month start;                  // required
    Month end;                    // required, inclusive, >= start
    int months_per_step = 1;      // step: month (1) | quarter (3)
    std::uint64_t seed = 2025;
    int replications = 100;       // 1 to max_replications

    MarketSpec market;
    std::vector<ChipSpec> chips;      // sorted by name; ChipId = index
    std::vector<RegionSpec> regions;  // sorted by name; RegionId = index
    std::vector<FirmSpec> firms;      // sorted by name; FirmId = index
    std::vector<EquityStake> equity;  // YAML: equity: {holder: {target: share}}
    std::vector<ContractSpec> contracts;
    std::vector<EventSpec> events;
    AgiSpec agi;
    OutputSpec outputs;
    std::vector<UncertainParam> uncertain;  // drawn per replication; Param::uncertain indexes here

    int steps() const { return (end - start) / months_per_step + 1; }
    Month month_of_step(int step) const { return start + step * months_per_step; }
    std::optional<FirmId> find_firm(std::string_view firm_name) const;
    std::optional<ChipId> find_chip(std::string_view chip_name) const;
    std::optional<RegionId> find_region(std::string_view region_name) const;
};

}  // namespace entangle
