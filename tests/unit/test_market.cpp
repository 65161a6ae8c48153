// Market mechanisms against closed forms and hand computations.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "engine/market/allocation.hpp"
#include "engine/market/economics.hpp"
#include "engine/market/end_market.hpp"
#include "engine/market/spot_auction.hpp"

using namespace entangle;

TEST_CASE("levelised cost of an H100 matches the hand computation of MODEL.md 5.2") {
    // r = 1.1^(1/12) - 1 = 0.0079741; CRF(60) = 0.0210356; CRF(180) = 0.0104839.
    // capital 25000*0.0210356 = 525.89; building 1.4/1000*11e6*0.0104839 = 161.45;
    // power 1.4*730*70/1000 = 71.54; O&M 0.05*25000/12 = 104.17; total 863.05 USD/month
    // over 730*0.8 = 584 sold hours: 1.4778 USD per H100e-hour; variable (71.54+104.17)/584 = 0.30087.
    LevelisedCostInputs in;
    in.chip_price = 25000;
    in.lifetime_months = 60;
    in.power_kw = 1.4;
    in.dc_capex_per_mw = 11e6;
    in.dc_life_months = 180;
    in.power_usd_per_mwh = 70;
    in.om_rate = 0.05;
    in.target_utilisation = 0.8;
    in.wacc = 0.10;
    const LevelisedCost c = levelised_cost(in);
    CHECK(c.full == doctest::Approx(1.4778224678).epsilon(1e-9));
    CHECK(c.variable == doctest::Approx(0.3008675799).epsilon(1e-9));
    CHECK(capital_recovery_factor(monthly_rate(0.10), 60) == doctest::Approx(0.0210355816).epsilon(1e-9));
    // A young toolchain realises less throughput: cost per effective hour rises by 1/sf.
    in.software_factor = 0.8;
    CHECK(levelised_cost(in).full == doctest::Approx(1.4778224678 / 0.8).epsilon(1e-9));
    // Zero cost of capital: straight-line recovery.
    CHECK(capital_recovery_factor(0.0, 60) == doctest::Approx(1.0 / 60));
}

TEST_CASE("spot ask: idle fleets price toward running cost, full ones above full cost") {
    const LevelisedCost cost{2.0, 0.5};
    CHECK(spot_ask(cost, 0.0, 0.8, 1.5) == doctest::Approx(0.5));             // idle: variable cost
    CHECK(spot_ask(cost, 0.8, 0.8, 1.5) == doctest::Approx(2.0));             // at target: full cost
    CHECK(spot_ask(cost, 1.0, 0.8, 1.5) == doctest::Approx(2.0 * std::pow(1.25, 1.5)));
    CHECK(spot_ask(cost, 0.4, 0.8, 1.0) == doctest::Approx(1.0));             // halfway: half of full cost
    // The scarcity exponent by products for the usual exponents, pow otherwise: the same up to rounding.
    for (double eta : {1.0, 1.5, 2.0, 1.7})
        for (double ratio : {0.0, 0.3, 1.0, 1.25, 2.5}) CHECK(scarcity_power(ratio, eta) == doctest::Approx(std::pow(ratio, eta)));
}

TEST_CASE("spot ask never falls as utilisation rises (the engine reads a cloud's dearest ask off its top tranche)") {
    const LevelisedCost cost{2.0, 0.5};
    for (double eta : {0.0, 1.0, 1.5, 2.0, 3.0, 0.7})
        for (double target : {0.0, 0.5, 0.8}) {
            double previous = spot_ask(cost, 0.0, target, eta);
            for (int k = 1; k <= 4000; ++k) {
                const double ask = spot_ask(cost, k / 2000.0, target, eta);
                CHECK(ask >= previous);
                previous = ask;
            }
        }
}

namespace {

// Textbook clearing by brute force: the traded volume is max over p of
// min(S(p), D(p)), with S(p) = asks at or below p and D(p) = bids at or above p.
double textbook_volume(const std::vector<Order>& asks, const std::vector<Order>& bids) {
    std::vector<double> prices;
    for (const auto& o : asks) prices.push_back(o.price);
    for (const auto& o : bids) prices.push_back(o.price);
    double best = 0;
    for (double p : prices) {
        double supply = 0, demand = 0;
        for (const auto& o : asks)
            if (o.price <= p) supply += o.quantity;
        for (const auto& o : bids)
            if (o.price >= p) demand += o.quantity;
        best = std::max(best, std::min(supply, demand));
    }
    return best;
}

// The auction as a walk down both sorted curves (the textbook procedure, and
// the engine's implementation before it stopped sorting bids): match the
// cheapest remaining ask with the dearest remaining bid while the ask is no
// dearer; the price interval is bounded by the last matched and the next
// unmatched order on each side. Returns the price (NaN when nothing trades)
// and writes each order's fill, levels at the margin shared pro rata.
double walk_price(std::vector<Order>& asks, std::vector<Order>& bids) {
    const auto ranked = [](const std::vector<Order>& orders, bool ascending) {
        std::vector<std::size_t> idx;
        for (std::size_t i = 0; i < orders.size(); ++i)
            if (orders[i].quantity > 0) idx.push_back(i);
        std::stable_sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) {
            return ascending ? orders[a].price < orders[b].price : orders[a].price > orders[b].price;
        });
        return idx;
    };
    const std::vector<std::size_t> a = ranked(asks, true), b = ranked(bids, false);
    std::size_t ai = 0, bi = 0;
    double ask_left = a.empty() ? 0 : asks[a[0]].quantity, bid_left = b.empty() ? 0 : bids[b[0]].quantity;
    double volume = 0, last_ask = NAN, last_bid = NAN;
    while (ai < a.size() && bi < b.size() && asks[a[ai]].price <= bids[b[bi]].price) {
        const double q = std::min(ask_left, bid_left);
        volume += q, ask_left -= q, bid_left -= q;
        last_ask = asks[a[ai]].price, last_bid = bids[b[bi]].price;
        if (ask_left <= 0 && ++ai < a.size()) ask_left = asks[a[ai]].quantity;
        if (bid_left <= 0 && ++bi < b.size()) bid_left = bids[b[bi]].quantity;
    }
    for (auto& o : asks) o.filled = 0;
    for (auto& o : bids) o.filled = 0;
    if (volume <= 0) return NAN;
    const auto fill = [&](std::vector<Order>& orders, const std::vector<std::size_t>& rank) {
        double left = volume;
        for (std::size_t i = 0; i < rank.size() && left > 1e-12 * volume;) {
            std::size_t end = i;
            double level = 0;
            while (end < rank.size() && orders[rank[end]].price == orders[rank[i]].price) level += orders[rank[end++]].quantity;
            const double share = level > left ? left / level : 1.0;
            for (; i < end; ++i) orders[rank[i]].filled = orders[rank[i]].quantity * share;
            left -= std::min(left, level);
        }
    };
    fill(asks, a);
    fill(bids, b);
    const double next_ask = ai < a.size() ? asks[a[ai]].price : INFINITY;
    const double next_bid = bi < b.size() ? bids[b[bi]].price : -INFINITY;
    return 0.5 * (std::max(last_ask, next_bid) + std::min(last_bid, next_ask));
}

// Every trade at the uniform price is individually rational and the market clears:
// asks below the price sell all, bids above it buy all.
void check_clearing(const std::vector<Order>& asks, const std::vector<Order>& bids, const ClearingResult& r) {
    double sold = 0, bought = 0;
    for (const auto& o : asks) {
        sold += o.filled;
        if (o.filled > 0) CHECK(o.price <= r.price + 1e-12);
        if (o.price < r.price) CHECK(o.filled == doctest::Approx(o.quantity));
    }
    for (const auto& o : bids) {
        bought += o.filled;
        if (o.filled > 0) CHECK(o.price >= r.price - 1e-12);
        if (o.price > r.price) CHECK(o.filled == doctest::Approx(o.quantity));
    }
    CHECK(sold == doctest::Approx(r.volume));
    CHECK(bought == doctest::Approx(r.volume));
}

}  // namespace

TEST_CASE("spot auction: a hand-cleared example") {
    // Supply 10@1, 10@2, 10@4; demand 15@5, 10@3, 10@1.5.
    // Walk: 10 trades at (1,5), 5 at (2,5), 5 at (2,3); then ask 4 > bid 3 stops.
    // Volume 20; marginal ask 2 fully used, marginal bid 3 half filled:
    // the bid is the marginal (rationed) side, so the price is 3.
    std::vector<Order> asks{{0, 10, 1}, {1, 10, 2}, {2, 10, 4}};
    std::vector<Order> bids{{0, 15, 5}, {1, 10, 3}, {2, 10, 1.5}};
    AuctionScratch scratch;
    const ClearingResult r = clear_uniform_price(asks, bids, scratch);
    CHECK(r.volume == doctest::Approx(20));
    CHECK(r.price == doctest::Approx(3));
    CHECK(bids[1].filled == doctest::Approx(5));
    CHECK(asks[2].filled == 0);
    check_clearing(asks, bids, r);
}

TEST_CASE("spot auction: excess supply at the margin prices at the marginal ask") {
    std::vector<Order> asks{{0, 10, 1}, {1, 10, 2}};
    std::vector<Order> bids{{0, 15, 5}};
    AuctionScratch scratch;
    const ClearingResult r = clear_uniform_price(asks, bids, scratch);
    CHECK(r.volume == doctest::Approx(15));
    CHECK(r.price == doctest::Approx(2));
    CHECK(asks[1].filled == doctest::Approx(5));
}

TEST_CASE("spot auction: exact match prices at the midpoint of the clearing interval") {
    // 10@1 against 10@5, next ask 6, next bid 0.5: any price in [1, 5] clears; midpoint 3.
    std::vector<Order> asks{{0, 10, 1}, {1, 10, 6}};
    std::vector<Order> bids{{0, 10, 5}, {1, 10, 0.5}};
    AuctionScratch scratch;
    const ClearingResult r = clear_uniform_price(asks, bids, scratch);
    CHECK(r.volume == doctest::Approx(10));
    CHECK(r.price == doctest::Approx(3));
}

TEST_CASE("spot auction: bids between two ask levels are rationed dearest first") {
    // Supply 10@1, 10@5; demand 3@6, 4@4, 6@3, 10@2. Below 5 only 10 is offered and
    // 23 wanted at 2 or more: volume 10. Bids 6 and 4 buy in full (7), bid 3 gets
    // the remaining 3 of its 6 and is left over at the margin: price 3 (the ask 1
    // sold out, the next ask 5 is dearer). Bid 2 buys nothing, ask 5 sells nothing.
    std::vector<Order> asks{{0, 10, 1}, {1, 10, 5}};
    std::vector<Order> bids{{0, 10, 2}, {1, 6, 3}, {2, 3, 6}, {3, 4, 4}};
    AuctionScratch scratch;
    const ClearingResult r = clear_uniform_price(asks, bids, scratch);
    CHECK(r.volume == doctest::Approx(10));
    CHECK(r.price == doctest::Approx(3));
    CHECK(bids[0].filled == 0);
    CHECK(bids[1].filled == doctest::Approx(3));
    CHECK(bids[2].filled == doctest::Approx(3));
    CHECK(bids[3].filled == doctest::Approx(4));
    CHECK(asks[0].filled == doctest::Approx(10));
    CHECK(asks[1].filled == 0);
    check_clearing(asks, bids, r);
}

TEST_CASE("spot auction: in a shortage every ask sells and the dearest bids buy") {
    // Supply 10@1, 10@2: all 20 sells, since 30 is wanted at 2 or more. Bid 5 buys
    // its 15, bid 3 the remaining 5 of its 10 and is left over: price 3. Bid 2.5 buys nothing.
    std::vector<Order> asks{{0, 10, 2}, {1, 10, 1}};
    std::vector<Order> bids{{0, 5, 2.5}, {1, 10, 3}, {2, 15, 5}};
    AuctionScratch scratch;
    const ClearingResult r = clear_uniform_price(asks, bids, scratch);
    CHECK(r.volume == doctest::Approx(20));
    CHECK(r.price == doctest::Approx(3));
    CHECK(asks[0].filled == doctest::Approx(10));
    CHECK(asks[1].filled == doctest::Approx(10));
    CHECK(bids[0].filled == 0);
    CHECK(bids[1].filled == doctest::Approx(5));
    CHECK(bids[2].filled == doctest::Approx(15));
}

TEST_CASE("spot auction: both sides exhausted, empty orders change nothing") {
    // 10@1 meets 10@4 exactly; the next ask is 3 and the next bid 2, so any price in
    // [2, 3] clears 10 (the ask 3 would sell above it, the bid 2 buy below it): 2.5.
    // Orders for nothing (an ask at 0.5, a bid at 3.5) are not part of either curve.
    std::vector<Order> asks{{0, 10, 1}, {1, 10, 3}, {2, 0, 0.5}};
    std::vector<Order> bids{{0, 10, 4}, {1, 10, 2}, {2, 0, 3.5}};
    AuctionScratch scratch;
    const ClearingResult r = clear_uniform_price(asks, bids, scratch);
    CHECK(r.volume == doctest::Approx(10));
    CHECK(r.price == doctest::Approx(2.5));
    CHECK(asks[0].filled == doctest::Approx(10));
    CHECK(asks[1].filled == 0);
    CHECK(bids[0].filled == doctest::Approx(10));
    CHECK(bids[1].filled == 0);
    CHECK(asks[2].filled == 0);
    CHECK(bids[2].filled == 0);
}

TEST_CASE("spot auction: no trade when every ask exceeds every bid, or a side is empty") {
    std::vector<Order> asks{{0, 10, 4}};
    std::vector<Order> bids{{0, 10, 3}};
    std::vector<Order> none;
    AuctionScratch scratch;
    ClearingResult r = clear_uniform_price(asks, bids, scratch);
    CHECK(r.volume == 0);
    CHECK(std::isnan(r.price));
    CHECK(bids[0].filled == 0);
    r = clear_uniform_price(none, bids, scratch);
    CHECK(r.volume == 0);
    r = clear_uniform_price(asks, none, scratch);
    CHECK(r.volume == 0);
}

TEST_CASE("spot auction: ties at the margin are shared pro rata, whatever the input order") {
    // Two sellers ask 2 for 10 and 30; demand 20@5: each sells half of its quantity... pro rata 5 and 15.
    std::vector<Order> asks{{0, 10, 2}, {1, 30, 2}};
    std::vector<Order> bids{{0, 20, 5}};
    AuctionScratch scratch;
    ClearingResult r = clear_uniform_price(asks, bids, scratch);
    CHECK(r.price == doctest::Approx(2));
    CHECK(asks[0].filled == doctest::Approx(5));
    CHECK(asks[1].filled == doctest::Approx(15));
    std::vector<Order> reversed{{1, 30, 2}, {0, 10, 2}};
    r = clear_uniform_price(reversed, bids, scratch);
    CHECK(reversed[1].filled == doctest::Approx(5));
    // Tied bids rationed pro rata.
    std::vector<Order> supply{{0, 12, 1}};
    std::vector<Order> demand{{0, 10, 4}, {1, 20, 4}};
    r = clear_uniform_price(supply, demand, scratch);
    CHECK(r.volume == doctest::Approx(12));
    CHECK(r.price == doctest::Approx(4));
    CHECK(demand[0].filled == doctest::Approx(4));
    CHECK(demand[1].filled == doctest::Approx(8));
}

TEST_CASE("spot auction equals textbook clearing on random markets") {
    std::mt19937_64 gen(12345);
    std::uniform_real_distribution<double> price(0.5, 8.0), quantity(0.0, 100.0);
    std::uniform_int_distribution<int> count(0, 12), many(40, 90), tick(1, 8), units(0, 6);
    AuctionScratch scratch;
    for (int trial = 0; trial < 2000; ++trial) {
        std::vector<Order> asks, bids;
        const bool coarse = trial % 2 == 0;        // coarse prices make many ties
        const bool whole = trial % 3 == 0;         // whole quantities (zeros too) make exact matches
        const bool large = trial % 10 == 9;        // books past the insertion sort
        const auto draw = [&](std::vector<Order>& side) {
            for (int i = 0, n = large ? many(gen) : count(gen); i < n; ++i)
                side.push_back({static_cast<std::uint32_t>(i), whole ? units(gen) * 10.0 : quantity(gen),
                                coarse ? tick(gen) * 1.0 : price(gen)});
        };
        draw(asks);
        draw(bids);
        const ClearingResult r = clear_uniform_price(asks, bids, scratch);
        CHECK(r.volume == doctest::Approx(textbook_volume(asks, bids)));
        if (r.volume > 0) check_clearing(asks, bids, r);
        // Same price and fills as the walk down both sorted curves.
        std::vector<Order> walked_asks = asks, walked_bids = bids;
        const double walked = walk_price(walked_asks, walked_bids);
        CHECK(std::isnan(r.price) == std::isnan(walked));
        if (!std::isnan(walked)) CHECK(r.price == doctest::Approx(walked));
        for (std::size_t i = 0; i < asks.size(); ++i) CHECK(asks[i].filled == doctest::Approx(walked_asks[i].filled));
        for (std::size_t i = 0; i < bids.size(); ++i) CHECK(bids[i].filled == doctest::Approx(walked_bids[i].filled));
    }
}

TEST_CASE("spot auction: a shortage decided from the supply's totals clears as the full auction does") {
    // clear_shortage sees only the summed ask quantity and the dearest ask; when it
    // decides, the full auction must agree bit for bit (price, volume, every bid's
    // fill, every ask sold), and when it does not, the market must not be short.
    std::mt19937_64 gen(777);
    std::uniform_real_distribution<double> price(0.5, 8.0), quantity(0.0, 100.0);
    std::uniform_int_distribution<int> count(0, 12), tick(1, 8);
    AuctionScratch scratch;
    int decided_short = 0, left_to_auction = 0;
    for (int trial = 0; trial < 2000; ++trial) {
        std::vector<Order> asks, bids;
        const bool coarse = trial % 2 == 0;
        const int n_asks = count(gen), n_bids = count(gen) * (trial % 3 == 0 ? 4 : 1);  // many bids: often short
        for (int i = 0; i < n_asks; ++i)
            asks.push_back({static_cast<std::uint32_t>(i), quantity(gen), coarse ? tick(gen) * 1.0 : price(gen)});
        for (int i = 0; i < n_bids; ++i)
            bids.push_back({static_cast<std::uint32_t>(i), quantity(gen), coarse ? tick(gen) * 1.0 : price(gen)});
        SupplyTotals totals;
        for (const Order& a : asks)
            if (a.quantity > 0) totals.quantity += a.quantity, totals.dearest_price = std::max(totals.dearest_price, a.price);
        std::vector<Order> short_bids = bids;
        const std::optional<ClearingResult> decided = clear_shortage(totals, short_bids, scratch);
        const ClearingResult full = clear_uniform_price(asks, bids, scratch);
        if (!decided) {
            ++left_to_auction;
            double reaching = 0;
            for (const Order& b : bids)
                if (b.price >= totals.dearest_price) reaching += b.quantity;
            CHECK(reaching <= totals.quantity);
            continue;
        }
        if (decided->volume > 0) ++decided_short;
        CHECK(std::isnan(decided->price) == std::isnan(full.price));
        if (!std::isnan(full.price)) CHECK(decided->price == full.price);
        CHECK(decided->volume == full.volume);
        for (std::size_t i = 0; i < bids.size(); ++i) CHECK(short_bids[i].filled == bids[i].filled);
        if (full.volume > 0)
            for (const Order& a : asks) CHECK(a.filled == a.quantity);
    }
    CHECK(decided_short > 100);  // both branches are exercised
    CHECK(left_to_auction > 100);
}

TEST_CASE("spot auction: a shortage cleared on curves cut at a floor is the full curves' clearing when cut_bids_clear_alone") {
    // The engine cuts the labs' demand curves at a floor when a shortage is likely and keeps
    // the cut clearing only if cut_bids_clear_alone says so: it must then equal the full
    // curves' clearing bit for bit (price, volume, every bid's fill; the cut-off bids fill nothing).
    // (In exact arithmetic a shortage among the cut bids always leaves one unfilled; the
    // predicate's test of that guards the sums' rounding, which random cases rarely reach.)
    std::mt19937_64 gen(2026);
    std::uniform_int_distribution<int> labs(1, 6), steps(1, 8), tick(1, 40);
    std::uniform_real_distribution<double> quantity(0.0, 100.0), unit(0.0, 1.0);
    AuctionScratch scratch;
    int kept = 0, rebuilt = 0;
    for (int trial = 0; trial < 3000; ++trial) {
        // Each lab's curve descends (a new run of bids per lab), prices on a coarse grid for ties.
        std::vector<Order> full;
        const int n_labs = labs(gen);
        for (int lab = 0; lab < n_labs; ++lab) {
            int price_tick = tick(gen) + 10;
            for (int k = steps(gen); k > 0 && price_tick > 0; --k, price_tick -= 1 + tick(gen) % 4)
                full.push_back({static_cast<std::uint32_t>(lab), quantity(gen), price_tick * 0.25});
        }
        SupplyTotals supply;
        supply.dearest_price = tick(gen) * 0.25;
        supply.quantity = quantity(gen) * n_labs * unit(gen) * 3;
        const double floor = supply.dearest_price + (trial % 2 == 0 ? 0.0 : tick(gen) * 0.125);
        std::vector<Order> cut;
        for (const Order& b : full)
            if (!(b.price < floor)) cut.push_back(b);
        const std::optional<ClearingResult> cut_result = clear_shortage(supply, cut, scratch);
        const std::optional<ClearingResult> full_result = clear_shortage(supply, full, scratch);
        if (!cut_bids_clear_alone(cut_result, cut)) {
            ++rebuilt;
            continue;
        }
        ++kept;
        REQUIRE(full_result);
        CHECK(full_result->price == cut_result->price);
        CHECK(full_result->volume == cut_result->volume);
        std::size_t next_cut = 0;
        for (const Order& b : full) {
            if (b.price < floor) {
                CHECK(b.filled == 0);
                continue;
            }
            CHECK(b.filled == cut[next_cut++].filled);
        }
    }
    CHECK(kept > 300);  // both outcomes are exercised
    CHECK(rebuilt > 300);
}

TEST_CASE("logit shares: closed form and stability") {
    const std::vector<double> utility{1.0, 2.0, 0.0};
    std::vector<double> shares(3);
    logit_shares(utility, shares);
    const double z = std::exp(1.0) + std::exp(2.0) + 1.0;
    CHECK(shares[0] == doctest::Approx(std::exp(1.0) / z));
    CHECK(shares[1] == doctest::Approx(std::exp(2.0) / z));
    CHECK(shares[2] == doctest::Approx(1.0 / z));
    // Capability is in orders of magnitude of FLOP (~25-30): no overflow.
    const std::vector<double> large{800.0, 801.0};
    std::vector<double> s2(2);
    logit_shares(large, s2);
    CHECK(s2[1] / s2[0] == doctest::Approx(std::exp(1.0)));
}

TEST_CASE("end market: unserved demand spills over once to labs with spare inference capacity") {
    // Potentials 60, 30, 10 (shares 0.6, 0.3, 0.1); lab 0 can serve 20, lab 1 100, lab 2 12.
    // Unserved 40 goes to labs 1 and 2 pro rata to shares 0.3:0.1 -> 30 and 10, capped by spare 70 and 2.
    const std::vector<double> potential{60, 30, 10}, serveable{20, 100, 12}, shares{0.6, 0.3, 0.1};
    std::vector<double> served(3);
    serve_end_market(potential, serveable, shares, served);
    CHECK(served[0] == doctest::Approx(20));
    CHECK(served[1] == doctest::Approx(60));
    CHECK(served[2] == doctest::Approx(12));
}

TEST_CASE("chip allocation rules") {
    const std::vector<double> requested{30, 10, 60};
    const std::vector<double> ones{1, 1, 1};
    std::vector<double> shipped(3);
    SUBCASE("pro rata shares output in proportion to orders") {
        allocate_output(Allocation::pro_rata, 50, requested, ones, shipped);
        CHECK(shipped[0] == doctest::Approx(15));
        CHECK(shipped[1] == doctest::Approx(5));
        CHECK(shipped[2] == doctest::Approx(30));
    }
    SUBCASE("fifo serves the oldest order first") {
        allocate_output(Allocation::fifo, 50, requested, ones, shipped);
        CHECK(shipped[0] == doctest::Approx(30));
        CHECK(shipped[1] == doctest::Approx(10));
        CHECK(shipped[2] == doctest::Approx(10));
    }
    SUBCASE("strategic weights favour related buyers, capped at their order") {
        // Weights 30*1, 10*4, 60*1 = 130; 50 output: 11.54, 15.38 -> capped at 10, refill the rest.
        const std::vector<double> priority{1, 4, 1};
        allocate_output(Allocation::strategic, 50, requested, priority, shipped);
        CHECK(shipped[1] == doctest::Approx(10));
        CHECK(shipped[0] + shipped[2] == doctest::Approx(40));
        CHECK(shipped[2] / shipped[0] == doctest::Approx(2.0));
    }
    SUBCASE("output above all orders fills them all") {
        allocate_output(Allocation::pro_rata, 500, requested, ones, shipped);
        CHECK(shipped[2] == doctest::Approx(60));
    }
}

TEST_CASE("Cournot best responses converge to (a - c) / (b (n + 1)) each") {
    const double a = 60000, b = 0.01, c = 3000;
    for (int n : {1, 2, 3, 5, 8}) {
        std::vector<double> q(static_cast<std::size_t>(n), 0.0), next(q.size());
        const std::vector<double> cost(q.size(), c), capacity(q.size(), 1e12);
        for (int round = 0; round < 200; ++round) {
            cournot_round(q, cost, a, b, capacity, next);
            q = next;
        }
        const double expected = (a - c) / (b * (n + 1));
        for (double qi : q) CHECK(qi == doctest::Approx(expected).epsilon(1e-9));
    }
}

TEST_CASE("Cournot: a capacity limit binds and rivals best-respond to it") {
    // Two firms; firm 0 capped at 500,000. Firm 1's best response: (a - c - b*500000)/(2b).
    const double a = 60000, b = 0.01, c = 3000;
    std::vector<double> q{0, 0}, next(2);
    const std::vector<double> cost{c, c}, capacity{500000, 1e12};
    for (int round = 0; round < 300; ++round) {
        cournot_round(q, cost, a, b, capacity, next);
        q = next;
    }
    CHECK(q[0] == doctest::Approx(500000));
    CHECK(q[1] == doctest::Approx((a - c - b * 500000) / (2 * b)));
}

TEST_CASE("backlog pricing against hand computations (MODEL.md 5.1)") {
    BacklogPricing rule;
    rule.kappa = 0.05;
    rule.backlog_target_months = 3;
    rule.floor = 3300 * 1.2;     // 3960
    rule.ceiling = 25000 * 2.0;  // 50000
    // Backlog of 5 months of output: 25000 * exp(0.05 * (5 - 3)) = 25000 * e^0.1 = 27629.2730.
    CHECK(backlog_price(25000, 50000, 10000, 1, rule) == doctest::Approx(27629.272951891).epsilon(1e-9));
    // At the target backlog the price holds; below it, it falls: 25000 * e^-0.15 = 21517.6994.
    CHECK(backlog_price(25000, 30000, 10000, 1, rule) == doctest::Approx(25000));
    CHECK(backlog_price(25000, 0, 10000, 1, rule) == doctest::Approx(21517.699410626).epsilon(1e-9));
    // A quarterly step compounds three months: 25000 * e^0.3 = 33746.4702.
    CHECK(backlog_price(25000, 150000, 30000, 3, rule) == doctest::Approx(33746.470189400).epsilon(1e-9));
    // Clamped to the ceiling and to the floor.
    CHECK(backlog_price(49000, 1e7, 10000, 1, rule) == doctest::Approx(50000));
    CHECK(backlog_price(4000, 0, 10000, 1, rule) == doctest::Approx(3960));
    // Nothing produced: no backlog term. Superseded at 30% a year: one month is (0.7)^(1/12).
    rule.age_decay = 0.3;
    CHECK(backlog_price(20000, 5000, 0, 1, rule) == doctest::Approx(20000 * std::pow(0.7, 1.0 / 12)));
}
