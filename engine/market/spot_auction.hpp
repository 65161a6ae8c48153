#pragma once
// Uniform-price double auction (MODEL.md 5.4): sellers' asks and buyers' bids
// (quantity at a limit price) clear at one price. Quantity traded is the
// textbook maximum of min(supply(p), demand(p)); the price is the midpoint of
// the interval of prices that clear it (the marginal ask when supply is left
// over at the margin, the marginal bid when demand is). Ties at the margin
// are shared pro rata to quantity, so the result does not depend on input order.
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <vector>

namespace entangle {

struct Order {
    std::uint32_t owner = 0;  // caller's index (firm id)
    double quantity = 0;      // >= 0
    double price = 0;         // limit price
    double filled = 0;        // output: quantity traded
};

struct ClearingResult {
    double price = 0;     // NaN when nothing trades
    double volume = 0;
};

// A price and a quantity: a level of the supply curve (cumulative quantity
// offered at or below the price) or a bid of the marginal group.
struct PriceLevel {
    double price = 0;
    double quantity = 0;
};

// Where a run of the marginal bids has got to in a lazy merge: its next bid,
// its end, and the next bid's price (-infinity once the run is exhausted).
struct RunHead {
    std::uint32_t next = 0, end = 0;
    double price = 0;
};

// Buffers reused across calls so that clearing does not allocate once warmed
// up (each list has a second buffer to merge into).
struct AuctionScratch {
    std::vector<PriceLevel> supply, supply_spare;              // distinct ask prices, ascending
    std::vector<double> demand;                                // [k]: bids priced at supply[k] or more
    std::vector<std::uint32_t> runs;                           // where each run already in order starts
    std::vector<RunHead> run_heads;                            // the marginal bids' runs, merged lazily
};

// What a shortage needs to know of the asks: every ask with quantity summed
// in order, and the dearest price among them.
struct SupplyTotals {
    double quantity = 0;
    double dearest_price = -std::numeric_limits<double>::infinity();
};

// The usual case decided from the supply's totals alone, without the ask
// curve: when the bids reaching the dearest ask want more than all supply,
// every ask sells in full and the bids share it dearest first (fills the bids;
// the caller fills the asks). Also decides that nothing trades when a side is
// empty. Otherwise returns nothing (the bids' fills are zeroed), and
// clear_uniform_price on the full asks finds the margin.
std::optional<ClearingResult> clear_shortage(SupplyTotals supply, std::span<Order> bids, AuctionScratch& scratch);
// Whether clear_shortage's `result` on bids cut at a floor (each buyer's
// descending curve stopped at its first price below the floor) is that of the
// full bids. The full bids only add cheaper ones: if the cut ones make a
// shortage, so do they, rationed down the same levels. And if a bid is left
// (partly) unfilled, the marginal level and the next below it (which bound the
// price) are among the cut bids, so the bids cut off would fill nothing.
bool cut_bids_clear_alone(const std::optional<ClearingResult>& result, std::span<const Order> bids);

// The rest of clear_uniform_price, for bids clear_shortage has declined (and
// zeroed): finds where the ask and bid curves cross.
ClearingResult clear_at_margin(std::span<Order> asks, std::span<Order> bids, AuctionScratch& scratch);

// Clears in place (fills Order::filled). Only the asks are sorted; each bid is
// placed by its price among the ask levels, and of the bids between the two
// ask levels where the curves cross (when demand is rationed there) only the
// dearest price levels, down to the margin, are merged in order.
ClearingResult clear_uniform_price(std::span<Order> asks, std::span<Order> bids, AuctionScratch& scratch);

}  // namespace entangle
