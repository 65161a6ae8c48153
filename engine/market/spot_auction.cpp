#include "engine/market/spot_auction.hpp"

#include <algorithm>
#include <array>
#include <cmath>

namespace entangle {
namespace {

constexpr double infinity = std::numeric_limits<double>::infinity();

// A list of price levels being sorted: the levels, a buffer as large, and
// where each run already in order starts (starts[0] == 0).
struct Runs {
    PriceLevel* levels;
    PriceLevel* spare;
    std::size_t size;
    std::vector<std::uint32_t>& starts;
};

// Sorts by ascending price, ties in input order, by merging the runs already
// in order: asks arrive as a run per cloud (its tranches ascend). Neighbouring
// runs merge pairwise until at most `max_heads` are left, which merge at once
// (each output picks the best of their cached heads). Returns where the sorted
// levels are.
constexpr std::size_t max_heads = 8;
PriceLevel* merge_runs(Runs runs) {
    const auto before = [](double a, double b) { return a < b; };
    PriceLevel* from = runs.levels;
    PriceLevel* to = runs.spare;
    std::vector<std::uint32_t>& starts = runs.starts;
    const std::size_t n = runs.size;
    while (starts.size() > max_heads) {
        std::size_t kept = 0;
        for (std::size_t r = 0; r < starts.size(); r += 2) {
            std::size_t i = starts[r], k = starts[r];
            const std::size_t middle = r + 1 < starts.size() ? starts[r + 1] : n;
            const std::size_t end = r + 2 < starts.size() ? starts[r + 2] : n;
            std::size_t j = middle;
            while (i < middle && j < end) to[k++] = before(from[j].price, from[i].price) ? from[j++] : from[i++];
            while (i < middle) to[k++] = from[i++];
            while (j < end) to[k++] = from[j++];
            starts[kept++] = starts[r];
        }
        starts.resize(kept);
        std::swap(from, to);
    }
    if (starts.size() <= 1) return from;
    std::array<std::size_t, max_heads> next{}, end{};
    std::array<double, max_heads> head{};
    std::size_t heads = starts.size();
    for (std::size_t r = 0; r < heads; ++r) {
        next[r] = starts[r];
        end[r] = r + 1 < heads ? starts[r + 1] : n;
        head[r] = from[next[r]].price;
    }
    for (std::size_t k = 0; k < n; ++k) {
        std::size_t best = 0;
        for (std::size_t r = 1; r < heads; ++r)
            if (before(head[r], head[best])) best = r;  // strictly: the earlier run wins a tie
        to[k] = from[next[best]++];
        if (next[best] < end[best]) {
            head[best] = from[next[best]].price;
            continue;
        }
        for (std::size_t r = best + 1; r < heads; ++r) next[r - 1] = next[r], end[r - 1] = end[r], head[r - 1] = head[r];
        --heads;
    }
    return to;
}

// Merges equal prices of a sorted list in place; returns the number of levels.
// Each level then holds the quantity at or before its price in the list.
std::size_t merge_equal_prices(PriceLevel* levels, std::size_t size) {
    std::size_t n = 0;
    double running = 0;
    for (std::size_t i = 0; i < size; ++i) {
        const PriceLevel level = levels[i];
        running += level.quantity;
        if (n > 0 && levels[n - 1].price == level.price)
            levels[n - 1].quantity = running;
        else
            levels[n++] = {level.price, running};
    }
    return n;
}

// Number of levels priced at or below `price`, of levels ascending and padded
// with +infinity to `padded`, a power of two: a branch-free binary search.
std::size_t levels_at_or_below(const PriceLevel* levels, std::size_t padded, double price) {
    std::size_t i = 0;
    for (std::size_t step = padded / 2; step > 0; step /= 2) i += levels[i + step - 1].price <= price ? step : 0;
    return i + (levels[i].price <= price ? 1 : 0);
}

// Dearest bid (with quantity) priced below `price`, -infinity if none.
double dearest_bid_below(std::span<const Order> bids, double price) {
    double best = -infinity;
    for (const Order& b : bids)
        if (b.quantity > 0 && b.price < price) best = std::max(best, b.price);
    return best;
}

template <class T>
void grow(std::vector<T>& buffer, std::size_t size) {
    if (buffer.size() < size) buffer.resize(size);
}

struct MarginalBids {
    double last = 0;  // price of the marginal (cheapest filled) bid
    double next = 0;  // price of the dearest bid left unfilled, -infinity if none
};

// The bids of the marginal group, in input order, as runs of neighbouring bids
// already in order: a lab's demand steps descend, so a new run starts only
// where the price rises or a bid outside the group intervenes (in practice one
// run per lab). The runs' buffer from the scratch, as large as the bids.
class MarginalGroup {
  public:
    MarginalGroup(AuctionScratch& scratch, std::span<const Order> bids) : bids_(bids.data()) {
        grow(scratch.run_heads, bids.size());
        runs_ = scratch.run_heads.data();
    }
    // Adds bids[i]; bids are added in input order.
    void add(std::size_t i) {
        const double price = bids_[i].price;
        if (runs_size_ == 0 || runs_[runs_size_ - 1].end != i || price > bids_[i - 1].price) {
            runs_[runs_size_++] = {static_cast<std::uint32_t>(i), 0, price};
            dearest_ = std::max(dearest_, price);  // a run's first bid is its dearest
        }
        runs_[runs_size_ - 1].end = static_cast<std::uint32_t>(i + 1);
    }

    // The group's distinct prices, dearest first, each with the quantity bid at
    // it, one at a time (false once exhausted): a lazy merge of the runs, as
    // rationing usually stops within the first few levels. Quantities at one
    // price are summed in input order (run by run, each run in order), as a
    // stable sort and then a merge of equal prices would. Consumes the group.
    bool next_level(PriceLevel& level) {
        const double dearest = dearest_;
        if (dearest == -infinity) return false;
        // One pass over the runs consumes this level and finds the next.
        double quantity = 0, following = -infinity;
        for (std::size_t r = 0; r < runs_size_; ++r) {
            RunHead& run = runs_[r];
            if (run.price == dearest) {
                while (run.next < run.end && bids_[run.next].price == dearest) quantity += bids_[run.next++].quantity;
                run.price = run.next < run.end ? bids_[run.next].price : -infinity;
            }
            following = std::max(following, run.price);
        }
        dearest_ = following;
        level = {dearest, quantity};
        return true;
    }

  private:
    const Order* bids_;
    RunHead* runs_;
    std::size_t runs_size_ = 0;
    double dearest_ = -infinity;  // the dearest run head: the next level's price
};

// Fills the bids when supply runs out among the marginal group (the bids
// priced in [lower, upper)): every dearer bid buys in full, and these share
// `left`, dearest first, pro rata at the margin.
MarginalBids ration_bids(std::span<Order> bids, MarginalGroup& group, double lower, double left) {
    PriceLevel level, following;
    group.next_level(level);  // the group is never empty: it holds the demand not yet served
    bool has_following = group.next_level(following);
    while (has_following && level.quantity < left) {
        left -= level.quantity;
        level = following;
        has_following = group.next_level(following);
    }
    const double share = std::min(left / level.quantity, 1.0);
    const bool left_over = level.quantity > left;
    const double last = level.price;
    for (Order& b : bids) {
        if (b.price > last) b.filled = b.quantity;
        else if (b.price == last) b.filled = b.quantity * share;
    }
    return {last, left_over ? last : has_following ? following.price : dearest_bid_below(bids, lower)};
}

}  // namespace

// In a shortage (the bids reaching the dearest ask want more than all supply)
// no ask level is needed: every ask sells, and the price lies between the
// dearest ask (or the dearest bid left unfilled) and the marginal bid.
std::optional<ClearingResult> clear_shortage(SupplyTotals supply, std::span<Order> bids, AuctionScratch& scratch) {
    // One pass over the bids collects those reaching the dearest ask: in a
    // shortage they are the marginal group.
    MarginalGroup group(scratch, bids);
    double dearest_bid = -infinity, reaching_dearest_ask = 0;
    for (std::size_t i = 0; i < bids.size(); ++i) {
        Order& b = bids[i];
        b.filled = 0;
        if (!(b.quantity > 0)) continue;
        dearest_bid = std::max(dearest_bid, b.price);
        if (b.price >= supply.dearest_price) {
            reaching_dearest_ask += b.quantity;
            group.add(i);
        }
    }
    if (!(supply.quantity > 0) || dearest_bid == -infinity) return ClearingResult{NAN, 0};
    if (!(reaching_dearest_ask > supply.quantity)) return std::nullopt;
    const MarginalBids margin = ration_bids(bids, group, supply.dearest_price, supply.quantity);
    return ClearingResult{0.5 * (std::max(supply.dearest_price, margin.next) + margin.last), supply.quantity};
}

bool cut_bids_clear_alone(const std::optional<ClearingResult>& result, std::span<const Order> bids) {
    return result && result->volume > 0 &&
           std::any_of(bids.begin(), bids.end(), [](const Order& b) { return b.filled < b.quantity; });
}

// Textbook clearing without ranking every order. With ask levels a_0 < ... < a_m-1,
// S_k the supply at or below a_k and D_k the demand at or above it, supply is
// flat and demand falls between two ask levels, so the traded volume
// max_p min(S(p), D(p)) is max_k min(S_k, D_k): at the first level k where
// S_k >= D_k it is max(D_k, S_k-1). Either the bids reaching a_k all buy and the
// asks are rationed at the level where supply first covers them, or all asks
// below a_k sell and the bids between a_k-1 and a_k, dearest first, share what
// dearer bids leave. The price interval is then bounded by the marginal and
// the next unfilled order on each side, as a walk down both curves finds it.
ClearingResult clear_at_margin(std::span<Order> asks, std::span<Order> bids, AuctionScratch& scratch) {
    const ClearingResult no_trade{NAN, 0};
    for (Order& a : asks) a.filled = 0;
    double dearest_bid = -infinity;
    for (const Order& b : bids)
        if (b.quantity > 0) dearest_bid = std::max(dearest_bid, b.price);

    // The supply curve: distinct ask prices ascending, with cumulative quantity.
    // Asks dearer than every bid never trade: only the cheapest of them counts
    // (it bounds the price), as the last level.
    grow(scratch.supply, 2 * asks.size());  // room to pad the levels to a power of two
    grow(scratch.supply_spare, 2 * asks.size());
    scratch.runs.clear();
    std::size_t offered = 0;
    double out_of_reach = infinity;
    for (const Order& a : asks) {
        if (!(a.quantity > 0)) continue;
        if (!(a.price <= dearest_bid)) {
            out_of_reach = std::min(out_of_reach, a.price);
            continue;
        }
        if (offered == 0 || a.price < scratch.supply[offered - 1].price) scratch.runs.push_back(static_cast<std::uint32_t>(offered));
        scratch.supply[offered++] = {a.price, a.quantity};
    }
    if (offered == 0) return no_trade;
    PriceLevel* const supply = merge_runs({scratch.supply.data(), scratch.supply_spare.data(), offered, scratch.runs});
    std::size_t levels = merge_equal_prices(supply, offered);
    if (out_of_reach < infinity) supply[levels] = {out_of_reach, supply[levels - 1].quantity}, ++levels;
    std::size_t padded = 1;
    while (padded < levels) padded *= 2;
    std::fill(supply + levels, supply + padded, PriceLevel{infinity, 0});

    // Demand by the dearest ask level each bid reaches, then cumulated from the
    // top: demand[k] becomes D_k, the bids priced at a_k or more.
    grow(scratch.demand, levels);
    double* const demand = scratch.demand.data();
    std::fill(demand, demand + levels, 0.0);
    // A lab's bids descend, so each of its later bids reaches at most as high
    // as the one before: walked down from there; searched afresh where the price rises.
    std::size_t reached = 0;
    double previous_price = NAN;  // the first bid is searched for
    for (const Order& b : bids) {
        if (!(b.price <= previous_price))
            reached = std::min(levels_at_or_below(supply, padded, b.price), levels);
        else
            while (reached > 0 && !(supply[reached - 1].price <= b.price)) --reached;
        previous_price = b.price;
        if (reached > 0 && b.quantity > 0) demand[reached - 1] += b.quantity;
    }
    for (std::size_t k = levels - 1; k-- > 0;) demand[k] += demand[k + 1];

    std::size_t cross = 0;  // first level whose supply covers the demand reaching it
    while (cross < levels && supply[cross].quantity < demand[cross]) ++cross;
    const double supply_below = cross > 0 ? supply[cross - 1].quantity : 0.0;
    const double demand_at_cross = cross < levels ? demand[cross] : 0.0;
    const double volume = std::max(supply_below, demand_at_cross);
    if (volume <= 0) return no_trade;

    double last_ask, next_ask, last_bid, next_bid;  // marginal and next unfilled order, each side
    if (demand_at_cross >= supply_below) {
        // Every bid reaching a_cross buys in full; asks are rationed at the level
        // where cumulative supply first covers the volume.
        const double reach = supply[cross].price;
        last_bid = infinity;
        for (Order& b : bids)
            if (b.price >= reach && b.quantity > 0) {
                b.filled = b.quantity;
                last_bid = std::min(last_bid, b.price);
            }
        next_bid = dearest_bid_below(bids, reach);
        const bool at_cross = supply_below < volume;  // else supply below a_cross meets the volume exactly
        const std::size_t marginal = at_cross ? cross : cross - 1;
        const bool left_over = at_cross && supply[cross].quantity > volume;
        const double share = left_over ? (volume - supply_below) / (supply[cross].quantity - supply_below) : 1.0;
        last_ask = supply[marginal].price;
        next_ask = left_over ? last_ask : marginal + 1 < levels ? supply[marginal + 1].price : infinity;
        for (Order& a : asks) {
            if (a.price < last_ask) a.filled = a.quantity;
            else if (a.price == last_ask) a.filled = a.quantity * share;
        }
    } else {
        // All supply below a_cross sells; the bids priced in [a_cross-1, a_cross)
        // share what dearer bids leave.
        last_ask = supply[cross - 1].price;
        next_ask = cross < levels ? supply[cross].price : infinity;
        for (Order& a : asks)
            if (a.price <= last_ask) a.filled = a.quantity;
        MarginalGroup group(scratch, bids);
        for (std::size_t i = 0; i < bids.size(); ++i)
            if (bids[i].quantity > 0 && bids[i].price >= last_ask && bids[i].price < next_ask) group.add(i);
        const MarginalBids margin = ration_bids(bids, group, last_ask, volume - demand_at_cross);
        last_bid = margin.last;
        next_bid = margin.next;
    }
    const double low = std::max(last_ask, next_bid);
    const double high = std::min(last_bid, next_ask);
    return {0.5 * (low + high), volume};
}

// A shortage is decided first, from the supply's totals.
ClearingResult clear_uniform_price(std::span<Order> asks, std::span<Order> bids, AuctionScratch& scratch) {
    SupplyTotals totals;
    for (const Order& a : asks)
        if (a.quantity > 0) totals.dearest_price = std::max(totals.dearest_price, a.price), totals.quantity += a.quantity;
    if (const std::optional<ClearingResult> decided = clear_shortage(totals, bids, scratch)) {
        for (Order& a : asks) a.filled = decided->volume > 0 ? a.quantity : 0.0;
        return *decided;
    }
    return clear_at_margin(asks, bids, scratch);
}

}  // namespace entangle
