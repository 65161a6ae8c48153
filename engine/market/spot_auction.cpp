#include "engine/market/spot_auction.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace entangle {
namespace {

// Fills the orders of one side, best first, up to `volume`; the last price
// level reached is shared pro rata among its orders.
void fill_side(std::span<Order> orders, std::span<const std::uint32_t> order_of, double volume) {
    std::size_t i = 0;
    double left = volume;
    // Rounding in the walk can leave a residue of ~1e-15; it is not demand.
    const double residue = 1e-12 * volume;
    while (i < order_of.size() && left > residue) {
        std::size_t level_end = i;
        double level_quantity = 0;
        const double level_price = orders[order_of[i]].price;
        while (level_end < order_of.size() && orders[order_of[level_end]].price == level_price) {
            level_quantity += orders[order_of[level_end]].quantity;
            ++level_end;
        }
        const double share = level_quantity > left ? left / level_quantity : 1.0;
        for (std::size_t k = i; k < level_end; ++k) orders[order_of[k]].filled = orders[order_of[k]].quantity * share;
        left -= std::min(left, level_quantity);
        i = level_end;
    }
}

}  // namespace

ClearingResult clear_uniform_price(std::span<Order> asks, std::span<Order> bids, std::vector<std::uint32_t>& scratch) {
    for (auto& o : asks) o.filled = 0;
    for (auto& o : bids) o.filled = 0;
    scratch.resize(asks.size() + bids.size());
    const std::span<std::uint32_t> ask_order(scratch.data(), asks.size());
    const std::span<std::uint32_t> bid_order(scratch.data() + asks.size(), bids.size());
    std::iota(ask_order.begin(), ask_order.end(), 0u);
    std::iota(bid_order.begin(), bid_order.end(), 0u);
    // Ties by index: the order, and with it every sum over a price level, is
    // then the same whatever the standard library's sort does with equal keys.
    std::sort(ask_order.begin(), ask_order.end(), [&](auto a, auto b) {
        return asks[a].price < asks[b].price || (asks[a].price == asks[b].price && a < b);
    });
    std::sort(bid_order.begin(), bid_order.end(), [&](auto a, auto b) {
        return bids[a].price > bids[b].price || (bids[a].price == bids[b].price && a < b);
    });

    // Walk both curves level by level while the best remaining ask is no
    // dearer than the best remaining bid.
    std::size_t ai = 0, bi = 0;
    double ask_left = ai < asks.size() ? asks[ask_order[0]].quantity : 0;
    double bid_left = bi < bids.size() ? bids[bid_order[0]].quantity : 0;
    double volume = 0;
    double last_ask = NAN, last_bid = NAN;
    const auto skip_empty = [](std::span<Order> orders, std::span<std::uint32_t> order_of, std::size_t& idx,
                               double& left) {
        while (idx < order_of.size() && left <= 0) {
            ++idx;
            left = idx < order_of.size() ? orders[order_of[idx]].quantity : 0;
        }
    };
    skip_empty(asks, ask_order, ai, ask_left);
    skip_empty(bids, bid_order, bi, bid_left);
    while (ai < ask_order.size() && bi < bid_order.size() &&
           asks[ask_order[ai]].price <= bids[bid_order[bi]].price) {
        const double q = std::min(ask_left, bid_left);
        volume += q;
        ask_left -= q;
        bid_left -= q;
        last_ask = asks[ask_order[ai]].price;
        last_bid = bids[bid_order[bi]].price;
        skip_empty(asks, ask_order, ai, ask_left);
        skip_empty(bids, bid_order, bi, bid_left);
    }
    if (volume <= 0) return {NAN, 0};

    // Prices that clear this volume: at least the marginal ask and the best
    // rejected bid, at most the marginal bid and the best rejected ask.
    const double next_ask = ai < ask_order.size() ? asks[ask_order[ai]].price : std::numeric_limits<double>::infinity();
    const double next_bid = bi < bid_order.size() ? bids[bid_order[bi]].price : -std::numeric_limits<double>::infinity();
    const double low = std::max(last_ask, next_bid);
    const double high = std::min(last_bid, next_ask);
    fill_side(asks, ask_order, volume);
    fill_side(bids, bid_order, volume);
    return {0.5 * (low + high), volume};
}

}  // namespace entangle
