#include "engine/market/spot_auction.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace entangle {
namespace {

// Fills the orders of one side, best first, up to `volume`; the last price
// level reached is shared pro rata among its orders.
void fill_side(std::span<Order> orders, std::span<const RankedOrder> ranked, double volume) {
    std::size_t i = 0;
    double left = volume;
    // Rounding in the walk can leave a residue of ~1e-15; it is not demand.
    const double residue = 1e-12 * volume;
    while (i < ranked.size() && left > residue) {
        std::size_t level_end = i;
        double level_quantity = 0;
        const double level_price = ranked[i].price;
        while (level_end < ranked.size() && ranked[level_end].price == level_price) {
            level_quantity += orders[ranked[level_end].index].quantity;
            ++level_end;
        }
        const double share = level_quantity > left ? left / level_quantity : 1.0;
        for (std::size_t k = i; k < level_end; ++k) {
            Order& o = orders[ranked[k].index];
            o.filled = o.quantity * share;
        }
        left -= std::min(left, level_quantity);
        i = level_end;
    }
}

// Ranks one side best first by price. (Tied orders keep the order the sort
// leaves them in; their level is shared pro rata, so only the rounding of the
// level's total can depend on it.)
void rank(std::span<const Order> orders, std::span<RankedOrder> ranked, bool ascending) {
    for (std::uint32_t i = 0; i < orders.size(); ++i) ranked[i] = RankedOrder{orders[i].price, i};
    if (ascending)
        std::sort(ranked.begin(), ranked.end(), [](const RankedOrder& a, const RankedOrder& b) { return a.price < b.price; });
    else
        std::sort(ranked.begin(), ranked.end(), [](const RankedOrder& a, const RankedOrder& b) { return a.price > b.price; });
}

}  // namespace

ClearingResult clear_uniform_price(std::span<Order> asks, std::span<Order> bids, std::vector<RankedOrder>& scratch) {
    for (auto& o : asks) o.filled = 0;
    for (auto& o : bids) o.filled = 0;
    scratch.resize(asks.size() + bids.size());
    const std::span<RankedOrder> ask_rank(scratch.data(), asks.size());
    const std::span<RankedOrder> bid_rank(scratch.data() + asks.size(), bids.size());
    rank(asks, ask_rank, true);
    rank(bids, bid_rank, false);

    // Walk both curves level by level while the best remaining ask is no
    // dearer than the best remaining bid.
    std::size_t ai = 0, bi = 0;
    double ask_left = ai < asks.size() ? asks[ask_rank[0].index].quantity : 0;
    double bid_left = bi < bids.size() ? bids[bid_rank[0].index].quantity : 0;
    double volume = 0;
    double last_ask = NAN, last_bid = NAN;
    const auto skip_empty = [](std::span<const Order> orders, std::span<const RankedOrder> ranked, std::size_t& idx,
                               double& left) {
        while (idx < ranked.size() && left <= 0) {
            ++idx;
            left = idx < ranked.size() ? orders[ranked[idx].index].quantity : 0;
        }
    };
    skip_empty(asks, ask_rank, ai, ask_left);
    skip_empty(bids, bid_rank, bi, bid_left);
    while (ai < ask_rank.size() && bi < bid_rank.size() && ask_rank[ai].price <= bid_rank[bi].price) {
        const double q = std::min(ask_left, bid_left);
        volume += q;
        ask_left -= q;
        bid_left -= q;
        last_ask = ask_rank[ai].price;
        last_bid = bid_rank[bi].price;
        skip_empty(asks, ask_rank, ai, ask_left);
        skip_empty(bids, bid_rank, bi, bid_left);
    }
    if (volume <= 0) return {NAN, 0};

    // Prices that clear this volume: at least the marginal ask and the best
    // rejected bid, at most the marginal bid and the best rejected ask.
    const double next_ask = ai < ask_rank.size() ? ask_rank[ai].price : std::numeric_limits<double>::infinity();
    const double next_bid = bi < bid_rank.size() ? bid_rank[bi].price : -std::numeric_limits<double>::infinity();
    const double low = std::max(last_ask, next_bid);
    const double high = std::min(last_bid, next_ask);
    fill_side(asks, ask_rank, volume);
    fill_side(bids, bid_rank, volume);
    return {0.5 * (low + high), volume};
}

}  // namespace entangle
