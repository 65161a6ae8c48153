#pragma once
// What one replication leaves behind: the series of FORMATS.md's results
// layout, flat and contiguous, plus its table rows. The engine fills these;
// output/ writes them. Variable order here is the order of the arrays.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace entangle {

struct SeriesInfo {
    std::string_view name;
    std::string_view units;
    std::string_view long_name;
};

enum class FirmSeries : std::uint8_t {
    cash, revenue, capex, compute, compute_training, compute_inference, capability, market_share,
    valuation, supplier_hhi, customer_hhi, utilisation, power_online_mw, stranded_units, count
};
inline constexpr std::array<SeriesInfo, static_cast<std::size_t>(FirmSeries::count)> firm_series_info{{
    {"cash", "USD", "cash held at the end of the month"},
    {"revenue", "USD per month", "revenue in the month (end market, capacity, chips, licences; quarterly steps: the quarter's monthly average)"},
    {"capex", "USD per month", "spending on chips and datacenter construction in the month (quarterly steps: the quarter's monthly average)"},
    {"compute", "H100e", "compute held and used by the firm's lab in the month"},
    {"compute_training", "H100e", "compute used for training"},
    {"compute_inference", "H100e", "compute used for inference"},
    {"capability", "log10 FLOP", "capability: log10 of effective training FLOP over the window"},
    {"market_share", "1", "share of the AI end market (logit)"},
    {"valuation", "USD", "entangled value: own value plus the value of stakes held, V = (I - E)^-1 own"},
    {"supplier_hhi", "1", "Herfindahl index of the lab's compute suppliers (1 = a single supplier)"},
    {"customer_hhi", "1", "Herfindahl index of the cloud's capacity customers"},
    {"utilisation", "1", "share of the cloud's capacity sold or used"},
    {"power_online_mw", "MW", "datacenter power online for the firm"},
    {"stranded_units", "units", "delivered accelerators waiting for powered space"},
}};

enum class MarketSeries : std::uint8_t {
    spot_price, spot_volume, contract_price_mean, frontier_capability, total_compute, end_market_usd,
    power_used_mw, power_available_mw, count
};
inline constexpr std::array<SeriesInfo, static_cast<std::size_t>(MarketSeries::count)> market_series_info{{
    {"spot_price", "USD per H100e-hour", "uniform clearing price of the spot auction (NaN when nothing traded)"},
    {"spot_volume", "H100e", "capacity traded on the spot market in the month"},
    {"contract_price_mean", "USD per H100e-hour", "quantity-weighted mean price of active capacity contracts"},
    {"frontier_capability", "log10 FLOP", "highest lab capability"},
    {"total_compute", "H100e", "effective installed compute of all clouds"},
    {"end_market_usd", "USD per year", "annual AI end-market revenue pool"},
    {"power_used_mw", "MW", "power drawn by installed accelerators"},
    {"power_available_mw", "MW", "power available to datacenters in all regions"},
}};

enum class ChipSeries : std::uint8_t { price, shipped, installed, count };
inline constexpr std::array<SeriesInfo, static_cast<std::size_t>(ChipSeries::count)> chip_series_info{{
    {"price", "USD per unit", "vendor's price of the family"},
    {"shipped", "units per month", "units shipped in the month (quarterly steps: the quarter's monthly average)"},
    {"installed", "units", "units installed and powered in clouds"},
}};

inline constexpr SeriesInfo capacity_flow_info{"capacity_flow", "H100e",
                                               "capacity supplied by supplier to customer in the month"};
inline constexpr SeriesInfo equity_info{"equity", "1", "share of target held by holder"};

struct ContractRow {
    std::string id, kind, seller, buyer, signed_month, start, end;
    double quantity_h100e = 0, price_usd_per_h100e_hour = 0, value_usd = 0;
    bool exclusive = false, rofr = false, until_agi = false;
    std::string status, end_reason;
};

struct EventRow {
    std::string time, kind, firms, text;
};

struct DrawnValue {
    std::uint32_t uncertain_index = 0;
    double value = 0;
};

// Dimensions of one replication's arrays.
struct RecordShape {
    int times = 0;  // recorded steps
    int firms = 0;
    int chips = 0;
    bool network = true;
    // The firms' entangled valuation is solved only when the `valuation` series is
    // recorded (it is a measure, no decision uses it); otherwise that series is NaN.
    bool valuation = true;
};

struct ReplicationRecord {
    std::uint32_t point = 0;
    std::uint32_t replication = 0;
    RecordShape shape;
    std::vector<double> firm;     // [FirmSeries][time][firm]
    std::vector<double> market;   // [MarketSeries][time]
    std::vector<double> chip;     // [ChipSeries][time][chip]
    std::vector<float> capacity_flow;  // [time][supplier][customer], empty when !network
    std::vector<float> equity;         // [time][holder][target], empty when !network
    std::vector<ContractRow> contracts;
    std::vector<EventRow> events;
    std::vector<double> drawn;    // one value per Scenario::uncertain entry
    // Asked of run_replication: the contract rows and the event log. A sweep
    // that keeps only statistics has no tables, so it skips their text.
    bool tables = true;
    // Opaque to the engine: what RecordSink::encode prepared for write() (the
    // HDF5 writer's compressed chunks). Empty unless encode filled it.
    std::vector<std::vector<unsigned char>> encoded;

    void resize(const RecordShape& s);
    // Bytes of the arrays resize(s) makes: a record's size before its table rows.
    static std::size_t array_bytes(const RecordShape& s);
    double& firm_at(FirmSeries v, int t, int f) {
        return firm[(static_cast<std::size_t>(v) * shape.times + t) * shape.firms + f];
    }
    double firm_at(FirmSeries v, int t, int f) const {
        return firm[(static_cast<std::size_t>(v) * shape.times + t) * shape.firms + f];
    }
    double& market_at(MarketSeries v, int t) { return market[static_cast<std::size_t>(v) * shape.times + t]; }
    double market_at(MarketSeries v, int t) const { return market[static_cast<std::size_t>(v) * shape.times + t]; }
    double& chip_at(ChipSeries v, int t, int c) {
        return chip[(static_cast<std::size_t>(v) * shape.times + t) * shape.chips + c];
    }
    double chip_at(ChipSeries v, int t, int c) const {
        return chip[(static_cast<std::size_t>(v) * shape.times + t) * shape.chips + c];
    }
    float& flow_at(int t, int s, int c) {
        return capacity_flow[(static_cast<std::size_t>(t) * shape.firms + s) * shape.firms + c];
    }
    float flow_at(int t, int s, int c) const {
        return capacity_flow[(static_cast<std::size_t>(t) * shape.firms + s) * shape.firms + c];
    }
    float& equity_at(int t, int h, int g) {
        return equity[(static_cast<std::size_t>(t) * shape.firms + h) * shape.firms + g];
    }
    float equity_at(int t, int h, int g) const {
        return equity[(static_cast<std::size_t>(t) * shape.firms + h) * shape.firms + g];
    }
};

}  // namespace entangle
