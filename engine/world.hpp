#pragma once
// The state of one replication: everything it owns, in contiguous arrays
// indexed by small integer ids, sized once when the replication starts so the
// monthly step does not allocate. The scenario it reads is shared and const.
#include <Eigen/Dense>
#include <cstdint>
#include <deque>
#include <span>
#include <string>
#include <vector>

#include "engine/market/economics.hpp"
#include "engine/record.hpp"
#include "engine/market/spot_auction.hpp"
#include "engine/rng.hpp"
#include "engine/scenario.hpp"
#include "engine/valuation.hpp"

namespace entangle {

using RoleIndex = std::uint16_t;  // index into World::labs / clouds / chipmakers
inline constexpr RoleIndex no_role = 0xffff;

// A cloud's (or lab's) total sold (bought) in one spot clearing.
struct SpotTrader {
    RoleIndex role = 0;
    double quantity = 0;
};

struct FirmState {
    double cash = 0;
    double debt = 0;
    // Flows of the current step, reset by the world phase.
    double revenue = 0;
    double capex = 0;
    RoleIndex lab = no_role, cloud = no_role, chipmaker = no_role;
};

struct LabState {
    FirmId firm = 0;
    double capability = 0;          // log10 effective FLOP, never falls
    double need_training = 0;       // H100e wanted this step
    double need_inference = 0;
    double bid_training = 0;        // USD per H100e-hour it will pay for unmet training need
    double bid_inference = 0;       // ... for unmet inference need (at most what inference earns)
    double spend_limit = 0;         // USD it can spend on compute this step (its budget)
    double held = 0;                // compute obtained this step (own fleet, contracts, spot)
    double held_inference_only = 0; // part of held on inference-only families
    double unmet_share = 0;         // last step's unmet need / need
    double licensed_capability = 0; // best capability licensed in from other labs (0: none)
    bool agi_verified = false;
    DeferredStream agi_stream;      // the AGI panel's monthly draws for this lab
    double compute_spend = 0;       // USD paid for compute this step
    double training_index = 1;      // cumulative training_growth since start
    double compute_training = 0;
    double compute_inference = 0;
    double share = 0;               // end-market share
    double revenue_potential = 0;   // USD this step on its share
    double revenue_served = 0;
    double valuation = 0;
    double burn_ewma = 0;           // USD per month, costs less revenue
    int last_round_step = -1000000;
    CachedPow training_growth_pow;  // training_growth ^ years per step
    std::vector<double> investor_budget_left;  // per LabRole::investors, USD
    // Ring buffer of effective training FLOP per step over the capability window.
    std::vector<double> flop_window;
    int window_head = 0;
};

// One region a cloud builds in.
struct Site {
    RegionId region = 0;
    double online_mw = 0;            // commissioned datacenter power
    double used_mw = 0;              // drawn by installed units
    double building_mw = 0;          // queued or under construction
    std::vector<double> installed;   // units per chip family
};

struct CloudState {
    FirmId firm = 0;
    std::vector<Site> sites;
    std::vector<double> installed;        // units per chip, all sites
    std::vector<double> stranded;         // delivered units per chip waiting for power
    std::vector<double> stranded_value;   // USD paid for them
    std::vector<double> on_order;         // units per chip in vendors' backlogs
    // Ascending chip ids of every family it holds, has coming or may buy: per-chip loops visit
    // these only (most clouds touch a few of the scenario's families). A family stays listed
    // once it has been held, so a loop over it skips nothing a loop over all chips would count.
    std::vector<ChipId> families;
    // Ascending chip ids of the families it holds or has coming (installed, delivered or on order):
    // listed when it orders, kept when they run out until `families` is next rebuilt. The loops
    // over its fleet visit these only, as a family with none adds nothing to them (most clouds may
    // buy nearly every family and hold a few).
    std::vector<ChipId> held_families;
    std::vector<LevelisedCost> levelised; // per chip at this step's prices (families it holds or may buy)
    // Per chip, what levelised[c] was computed from, valid while `priced_with` and the families'
    // parameters stay the same: the terms no chip price enters, and the chip price (NaN: to
    // compute). Most months a family's cost comes out as last month's (the vendor's price or the
    // cloud's own unit cost stands still), and the others' need only the price's terms.
    struct LevelisedBasis {
        LevelisedCostTerms terms;
        double at_price = NAN;
    };
    std::vector<LevelisedBasis> levelised_basis;
    LevelisedCostInputs priced_with;      // the cloud's own inputs (power price, rates) of levelised
    bool cost_inputs_move = false;        // some of them is no constant: read again each month
    std::vector<double> chip_recovery;    // CRF(lifetime) per chip at recovery_rate
    double recovery_rate = -1;            // monthly rate chip_recovery was computed at
    CachedPow wacc_pow;                   // (1 + wacc)^(1/12), for the monthly rate
    CachedPow demand_growth_pow, lab_growth_pow;  // growth factors over the forecast horizon
    double dc_recovery = 0;               // CRF(dc_life) at recovery_rate
    std::vector<double> retire_schedule;  // [chip * steps + step]: units reaching end of life
    // Per chip: every unit due to retire after the current step is scheduled at or after this
    // step (the investment forecast moves it past zeros; installing lowers it if need be).
    std::vector<int> retire_scan_from;
    std::vector<double> depreciation_end; // [step]: monthly depreciation that stops at that step
    // [step]: installations (of any family) scheduled to retire at that step. Most months none
    // does, and the world phase then skips the cloud's fleet.
    std::vector<std::uint32_t> retirements_due;
    double monthly_depreciation = 0;      // USD per month, straight line
    double book_value = 0;                // USD, chips at cost less depreciation
    double fleet_cost = 0;                // USD, purchase value of installed units (O&M base)
    double capacity_general = 0;          // effective H100e this step
    double capacity_inference = 0;        // effective H100e of inference-only families
    double obligations = 0;               // contracted delivery this step
    double internal_use = 0;              // used by the firm's own lab
    double internal_general = 0;          //   of which on general-purpose families
    double internal_inference = 0;        //   of which on inference-only families
    double spot_sold = 0;
    double spot_ewma = 0;                 // EWMA of spot sales plus its share of unmet demand
    double utilisation = 0;               // this step's (sold + used) / capacity
    double levelised_full = 0;            // fleet-weighted c_lev, USD per H100e-hour
    double levelised_variable = 0;
};

struct ChipOrder {
    FirmId buyer = 0;
    RoleIndex cloud = 0;
    ChipId chip = 0;
    double units_left = 0;
    double unit_price = 0;   // agreed at order
    int ordered_step = 0;
    double shipping = 0;     // scratch: units allotted this step
    bool priority = false;   // under a chip_supply contract: served before open orders
};

struct ChipmakerState {
    FirmId firm = 0;
    double cournot_output = 0;       // units per month, cournot pricing only
    // Scratch for allocating one family's output, reused every step.
    std::vector<double> requested, priority, shipped;
};

struct ChipState {
    std::vector<ChipOrder> orders;  // open orders for this family, oldest first
    double price = 0;       // vendor's current price per unit
    double production_cap = 0;  // units this step
    // This step's values of the parameters the clouds' per-family loops read (set at set-up, and
    // again as each supply phase starts if World::family_parameter_moves lists the family): a few
    // words of the family's state instead of parameters scattered over its spec.
    double power_kw = 0;          // per unit, all-in
    double h100e = 0, software_factor = 0;
    double effective_h100e = 0;   // World::effective_h100e: h100e x software_factor
    double backlog = 0;     // units ordered and not shipped
    double shipped = 0;     // this step
    double installed = 0;   // all clouds (summed when a month is recorded)
    Month superseded_at{1 << 30};  // release of the vendor's next family (never: far future)
    // Its spec's workload is inference (set with power_kw). Here, in padding: the state stays
    // 128 bytes, so indexing the families is a shift (136 cost the step loops 1%).
    bool inference_only = false;
    CachedPow age_decay_pow;       // (1 - age_decay)^(years per step), once superseded
};

struct ConstructionProject {
    RoleIndex cloud = 0;
    std::uint16_t site = 0;
    double mw_left = 0;
    int ready_step = 0;     // construction done; then waits for grid power
};

struct RegionState {
    double available_mw = 0;   // grid power the region can give datacenters
    double allocated_mw = 0;   // commissioned
    double queued_mw = 0;      // waiting in the queue (built or not)
    std::vector<ConstructionProject> queue;  // first come first served
    std::size_t queue_head = 0;
    DeferredStream delay_stream;
};

enum class ContractStatus : std::uint8_t { pending, active, expired, terminated, amended };

struct ContractState {
    const ContractSpec* spec = nullptr;  // in the scenario's contracts or a sign/invest event
    Month signed_at;                     // when it became known (the event's month for signed ones)
    ContractStatus status = ContractStatus::pending;
    const char* end_reason = "";         // "term", "agi", "terminated", "settled"
    std::string ended_by;                // the event id that ended it, if one did
    double delivered_this_step = 0;
    double delivered_total = 0;
    double paid_total = 0;               // USD paid under it (fees, capacity, chips, investment)
    double spent = 0;                    // commitment: buyer's spend with the seller so far
    bool exclusive = false, rofr = false;  // clauses in force (a waiver can drop them)

    bool live() const { return status == ContractStatus::active || status == ContractStatus::pending; }
};

// A cloud's quote to a lab in a procurement round (engine/procurement.cpp).
struct CapacityQuote {
    RoleIndex cloud = 0;
    double cost = 0;         // c_S, levelised
    double reservation = 0;  // c_S + d_S
    double deliverable = 0;  // H100e it can still promise at the start
    double price = 0;        // agreed price
    double effective = 0;    // price net of spend the lab owes the seller anyway
};

// Money leaving or entering the system of firms in one step (MODEL.md 10).
struct ExternalFlows {
    double end_market = 0, outside_funding = 0, borrowing = 0;
    double power = 0, operations = 0, wages = 0, chip_production = 0, construction = 0, interest = 0, repayment = 0;
    double acquisitions = 0;  // acquisition prices paid to owners outside the modelled firms
    double inflow() const { return end_market + outside_funding + borrowing; }
    double outflow() const {
        return power + operations + wages + chip_production + construction + interest + repayment + acquisitions;
    }
};

struct World {
    const Scenario* scenario = nullptr;
    std::span<const double> drawn;  // uncertain parameter values of this replication
    StreamKey stream_key;
    int step = 0;
    int steps = 0;

    std::vector<FirmState> firms;
    std::vector<LabState> labs;
    std::vector<CloudState> clouds;
    std::vector<ChipmakerState> chipmakers;
    std::vector<ChipState> chips;
    // The families whose power draw, H100e or software factor is no constant: their ChipState
    // copies are read again as each supply phase starts (the others' are set once).
    std::vector<ChipId> family_parameter_moves;
    // [chip]: this step's list price per unit (a cloud's O&M base, a vendor's price ceiling),
    // read for every family of every fleet each month. Constants are set once; the families
    // whose price is not a constant (list_price_moves) are read again as the world phase starts.
    std::vector<double> list_price;
    std::vector<ChipId> list_price_moves;
    std::vector<RegionState> regions;
    // [region]: this step's grid power price, USD per MWh: read for every site of every cloud
    // each month, and by the clouds' levelised costs. Set like list_price (power_price_moves:
    // the regions whose price is no constant).
    std::vector<double> power_price;
    std::vector<RegionId> power_price_moves;
    std::vector<ContractState> contracts;
    // Which parties the book could concern, for hot scans to skip firms it cannot (a cache of
    // `contracts`, extended as the book grows at its end: entries are only added, and their kind,
    // parties and exclusivity are set when added; a waiver only drops exclusivity). An insertion
    // before the end (an amendment) must call `contracts_reordered`.
    // A capacity contract as the per-firm scans read it: its fixed terms next to its position,
    // so a scan touches the book only for the contracts whose term covers the month asked about.
    struct CapacityTerms {
        std::uint32_t position = 0;  // in `contracts`
        Month signed_at, start, end;
        double quantity_h100e = 0;
    };
    struct ContractIndex {
        std::size_t built_for = static_cast<std::size_t>(-1);  // contracts indexed (-1: none, rebuild)
        std::vector<std::uint16_t> commitments;  // [buyer * n + seller]: commitment contracts
        std::vector<std::uint16_t> exclusive;    // [buyer]: capacity contracts made exclusive
        // [firm]: its capacity contracts not ended, in book order (one that ends leaves the lists
        // with `live`, at the end of the next contracts phase).
        std::vector<std::vector<CapacityTerms>> capacity_by_seller, capacity_by_buyer;
        std::vector<std::vector<std::uint32_t>> commitments_by_buyer;  // [firm]: positions of its commitment contracts
        std::vector<std::vector<std::uint32_t>> rofr_by_buyer;  // [firm]: positions of contracts it gave a ROFR clause
        std::vector<std::uint32_t> licences;     // positions of the licence contracts, in book order
        // Positions of the contracts not ended (pending or active), in book order: the monthly
        // loops visit these, not the whole book, most of which has ended by the 2030s. An
        // ended contract leaves the list at the end of the next contracts phase (run_contracts).
        std::vector<std::uint32_t> live;
        // Positions of the live revenue-share and commitment contracts, in book order: those the
        // finance phase settles (settle_contracts); pruned with `live`.
        std::vector<std::uint32_t> settled_monthly;
    };
    mutable ContractIndex contract_index;
    void contracts_reordered() { contract_index.built_for = static_cast<std::size_t>(-1); }
    const ContractIndex& indexed_contracts() const {
        if (contract_index.built_for != contracts.size()) [[unlikely]]
            extend_contract_index();
        return contract_index;
    }
    ContractIndex& indexed_contracts() {  // for the contracts phase, which prunes `live`
        if (contract_index.built_for != contracts.size()) [[unlikely]]
            extend_contract_index();
        return contract_index;
    }
    void extend_contract_index() const;  // engine/contracts.cpp
    std::deque<ContractSpec> signed_specs;  // contracts signed during the run (stable addresses)

    // Market
    double end_market_usd = 0;     // annual pool this step
    double growth_index = 1;       // cumulative (1+g) growth since start
    double demand_walk = 0;        // W_t
    double frontier = 0;
    double frontier0 = 0;
    double spot_price = 0;         // NaN when nothing traded
    double spot_volume = 0;
    double unmet_demand = 0;       // H100e wanted at the clearing price and not served
    bool spot_shortage = false;    // the last general clearing was a shortage (a hint only: clear_spot_market)
    DeferredStream market_stream;
    CachedPow end_market_growth_pow, interest_pow, debt_pow;
    CachedPow agi_survival_pow;    // (1 - AGI panel hazard)^(months per step)

    std::vector<std::uint8_t> buyable;  // [firm * chips + chip]: may the firm buy the family (forbids included)
    // The firm whose account holds each firm's cash and debt: itself, or its
    // acquirer once it is acquired (its roles keep operating under its name).
    std::vector<FirmId> treasury;
    // [a * n + b]: a `forbid` event bars the pair from trading this month
    // (empty when the scenario has no forbid events).
    std::vector<std::uint8_t> forbidden;
    bool any_forbidden = false;
    std::vector<double> credits;        // [holder * n + issuer]: in-kind capacity credit, USD

    // Valuation: own value of each firm and the entangled value V = (I - E)^-1 own.
    EntangledValuation valuation;
    Eigen::VectorXd own_value, firm_value;

    // Networks: capacity flow this step and equity, [i * n + j].
    std::vector<double> flow;
    std::vector<double> equity;

    ExternalFlows external;

    // Positions in the scenario's events of the enabled ones, by month (scenario order within
    // a month), and the first not yet reached: the world phase visits only this month's.
    std::vector<std::uint32_t> events_by_month;
    std::size_t next_event = 0;

    // What happened, for the events table (strings only when something happens).
    std::vector<EventRow> event_log;
    bool log_events = true;  // false when nothing is recorded: frequent rows are then not even formatted

    // Scratch for the spot auction, reused every step. The order lists are sized
    // once (init_world) to the most orders a clearing can take.
    std::vector<Order> asks, bids;
    std::vector<RoleIndex> spot_sellers;  // the clouds that sell capacity (scenario flag), ascending: spot and contract quotes
    AuctionScratch auction_scratch;
    std::vector<double> end_market_scratch;
    std::vector<SpotTrader> sellers_scratch, buyers_scratch;  // those who traded, ascending
    std::vector<double> region_scratch;
    std::vector<double> cournot_scratch;
    std::vector<CapacityQuote> quote_scratch;
    std::vector<double> pairing_scratch;

    const Scenario& sc() const { return *scenario; }
    double param(const Param& p) const { return p.at(step, drawn); }
    Month month() const { return scenario->month_of_step(step); }
    // H100e a unit of the family delivers to its buyer (nominal x software factor). From the
    // supply phase to the end of the step, chips[c].effective_h100e holds the same value.
    double effective_h100e(ChipId c) const {
        return param(scenario->chips[c].h100e) * param(scenario->chips[c].software_factor);
    }
    std::size_t n_firms() const { return firms.size(); }
    double& flow_at(FirmId supplier, FirmId customer) { return flow[supplier * firms.size() + customer]; }
    FirmState& account(FirmId f) { return firms[treasury[f]]; }
    const FirmState& account(FirmId f) const { return firms[treasury[f]]; }
    bool forbidden_pair(FirmId a, FirmId b) const { return any_forbidden && forbidden[a * firms.size() + b]; }
    double equity_at(FirmId holder, FirmId target) const { return equity[holder * firms.size() + target]; }
    double hours_per_step() const { return hours_per_month * sc().months_per_step; }
    double years_per_step() const { return sc().months_per_step / 12.0; }
};

// Money moving between firms (both sides at once, so it is conserved). Inline:
// every payment of the contracts phase goes through it (~4 k a replication).
inline void transfer(World& w, FirmId from, FirmId to, double usd) {
    w.account(from).cash -= usd;
    w.account(to).cash += usd;
}

}  // namespace entangle
