#include "engine/market/spot_auction.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace entangle {
namespace {

constexpr double infinity = std::numeric_limits<double>::infinity();

// Sorts by price (`before` says which of two prices comes first). Order books
// arrive as runs already sorted by firm (a cloud's tranches ascend, a lab's
// steps descend), so insertion costs little there; it keeps ties in input
// order (large books, sorted otherwise, sum tied quantities in another order).
template <class Before>
void sort_levels(std::span<PriceLevel> levels, Before before) {
    if (levels.size() > 64) {
        std::sort(levels.begin(), levels.end(),
                  [&](const PriceLevel& a, const PriceLevel& b) { return before(a.price, b.price); });
        return;
    }
    for (std::size_t i = 1; i < levels.size(); ++i) {
        const PriceLevel moving = levels[i];
        std::size_t k = i;
        for (; k > 0 && before(moving.price, levels[k - 1].price); --k) levels[k] = levels[k - 1];
        levels[k] = moving;
    }
}

// Merges equal prices of a sorted list, each level then holding the quantity
// offered up to and including it (cumulative) or at it alone.
void merge_equal_prices(std::vector<PriceLevel>& levels, bool cumulative) {
    std::size_t n = 0;
    double running = 0;
    for (const PriceLevel& level : levels) {
        running = cumulative ? running + level.quantity : level.quantity;
        if (n > 0 && levels[n - 1].price == level.price)
            levels[n - 1].quantity = cumulative ? running : levels[n - 1].quantity + level.quantity;
        else
            levels[n++] = {level.price, running};
    }
    levels.resize(n);
}

}  // namespace

// Textbook clearing without ranking every order. With ask levels a_0 < ... < a_m-1,
// S_k the supply at or below a_k and D_k the demand at or above it, supply is
// flat and demand falls between two ask levels, so the traded volume
// max_p min(S(p), D(p)) is max_k min(S_k, D_k): at the first level k where
// S_k >= D_k it is max(D_k, S_k-1). Either the bids reaching a_k all buy and the
// asks are rationed at the level where supply first covers them, or all asks
// below a_k sell and the bids between a_k-1 and a_k, dearest first, share what
// dearer bids leave. The price interval is then bounded by the marginal and
// the next unfilled order on each side, as a walk down both curves finds it.
ClearingResult clear_uniform_price(std::span<Order> asks, std::span<Order> bids, AuctionScratch& scratch) {
    for (auto& o : asks) o.filled = 0;
    for (auto& o : bids) o.filled = 0;
    const ClearingResult no_trade{NAN, 0};

    // The supply curve: distinct ask prices ascending, with cumulative quantity.
    std::vector<PriceLevel>& supply = scratch.supply;
    supply.clear();
    for (const Order& o : asks)
        if (o.quantity > 0) supply.push_back({o.price, o.quantity});
    sort_levels(supply, [](double a, double b) { return a < b; });
    merge_equal_prices(supply, true);
    const std::size_t levels = supply.size();
    if (levels == 0 || bids.empty()) return no_trade;

    // Demand by the dearest ask level each bid reaches, then cumulated from the top:
    // demand[k].quantity becomes D_k, the bids priced at a_k or more.
    std::vector<DemandBucket>& demand = scratch.demand;
    demand.assign(levels, DemandBucket{0, infinity, -infinity});
    double best_unreached = -infinity;  // dearest bid below every ask
    for (const Order& b : bids) {
        if (b.quantity <= 0) continue;
        const auto above = std::upper_bound(supply.begin(), supply.end(), b.price,
                                            [](double price, const PriceLevel& level) { return price < level.price; });
        if (above == supply.begin()) {
            best_unreached = std::max(best_unreached, b.price);
            continue;
        }
        DemandBucket& bucket = demand[static_cast<std::size_t>(above - supply.begin()) - 1];
        bucket.quantity += b.quantity;
        bucket.lowest = std::min(bucket.lowest, b.price);
        bucket.highest = std::max(bucket.highest, b.price);
    }
    for (std::size_t k = levels - 1; k-- > 0;) demand[k].quantity += demand[k + 1].quantity;

    std::size_t cross = 0;  // first level whose supply covers the demand reaching it
    while (cross < levels && supply[cross].quantity < demand[cross].quantity) ++cross;
    const double supply_below = cross > 0 ? supply[cross - 1].quantity : 0.0;
    const double demand_at_cross = cross < levels ? demand[cross].quantity : 0.0;
    const double volume = std::max(supply_below, demand_at_cross);
    if (volume <= 0) return no_trade;

    // Dearest bid priced below a_k (k > 0), from the buckets under it.
    const auto dearest_below = [&](std::size_t k) {
        for (std::size_t j = k; j-- > 0;)
            if (demand[j].highest > -infinity) return demand[j].highest;
        return best_unreached;
    };
    double last_ask, next_ask, last_bid, next_bid;  // marginal and next unfilled order, each side
    if (demand_at_cross >= supply_below) {
        // Every bid reaching a_cross buys in full; asks are rationed at the level
        // where cumulative supply first covers the volume.
        const double level_threshold = supply[cross].price;
        last_bid = infinity;
        for (std::size_t j = cross; j < levels; ++j) last_bid = std::min(last_bid, demand[j].lowest);
        next_bid = dearest_below(cross);
        for (Order& b : bids)
            if (b.price >= level_threshold) b.filled = b.quantity;
        const bool at_cross = supply_below < volume;  // else supply below a_cross meets the volume exactly
        const std::size_t marginal = at_cross ? cross : cross - 1;
        const double offered_at = supply[marginal].quantity - (marginal > 0 ? supply[marginal - 1].quantity : 0.0);
        const double already = marginal > 0 ? supply[marginal - 1].quantity : 0.0;
        const bool left_over = at_cross && supply[cross].quantity > volume;
        const double share = left_over ? (volume - already) / offered_at : 1.0;
        last_ask = supply[marginal].price;
        next_ask = left_over ? last_ask : marginal + 1 < levels ? supply[marginal + 1].price : infinity;
        for (Order& a : asks) {
            if (a.price < last_ask) a.filled = a.quantity;
            else if (a.price == last_ask) a.filled = a.quantity * share;
        }
    } else {
        // All supply below a_cross sells; the bids priced in [a_cross-1, a_cross)
        // share what dearer bids leave, dearest first, pro rata at the margin.
        last_ask = supply[cross - 1].price;
        next_ask = cross < levels ? supply[cross].price : infinity;
        for (Order& a : asks)
            if (a.price <= last_ask) a.filled = a.quantity;
        const double upper = next_ask;
        std::vector<PriceLevel>& group = scratch.marginal_bids;
        group.clear();
        for (const Order& b : bids)
            if (b.quantity > 0 && b.price >= last_ask && b.price < upper) group.push_back({b.price, b.quantity});
        sort_levels(group, [](double a, double b) { return a > b; });
        merge_equal_prices(group, false);
        double left = volume - demand_at_cross;
        std::size_t k = 0;
        while (k + 1 < group.size() && group[k].quantity < left) left -= group[k++].quantity;
        const double share = std::min(left / group[k].quantity, 1.0);
        const bool left_over = group[k].quantity > left;
        last_bid = group[k].price;
        next_bid = left_over ? last_bid : k + 1 < group.size() ? group[k + 1].price : dearest_below(cross - 1);
        for (Order& b : bids) {
            if (b.price > last_bid) b.filled = b.quantity;
            else if (b.price == last_bid) b.filled = b.quantity * share;
        }
    }
    const double low = std::max(last_ask, next_bid);
    const double high = std::min(last_bid, next_ask);
    return {0.5 * (low + high), volume};
}

}  // namespace entangle
