// Bargaining protocols, ROFR and the exclusivity buy-out against their closed forms.
#include <doctest/doctest.h>

#include <cmath>

#include "engine/market/bargaining.hpp"

using namespace entangle;

TEST_CASE("Nash bargaining price for several powers and outside options") {
    // p* = beta (c_S + d_S) + (1 - beta) (v_L - d_L)
    struct Case { double v, dl, c, ds, beta, expected; };
    const Case cases[] = {
        {6.0, 0.0, 2.0, 0.0, 0.5, 4.0},     // split the 4 of surplus evenly
        {6.0, 0.0, 2.0, 0.0, 1.0, 2.0},     // all power to the lab: it pays cost
        {6.0, 0.0, 2.0, 0.0, 0.0, 6.0},     // all power to the seller: it takes the value
        {6.0, 1.0, 2.0, 0.5, 0.3, 0.3 * 2.5 + 0.7 * 5.0},
        {3.0, 0.5, 2.0, 0.5, 0.5, 2.5},     // zero surplus: a deal at the common reservation
    };
    for (const Case& k : cases) {
        BargainingInputs in;
        in.lab_value = k.v;
        in.lab_outside = k.dl;
        in.seller_cost = k.c;
        in.seller_outside = k.ds;
        in.lab_power = k.beta;
        const auto price = bargain(Bargaining::nash, in);
        REQUIRE(price);
        CHECK(*price == doctest::Approx(k.expected));
    }
}

TEST_CASE("Nash bargaining maximises the Nash product") {
    BargainingInputs in;
    in.lab_value = 7;
    in.lab_outside = 1;
    in.seller_cost = 2;
    in.seller_outside = 0.5;
    in.lab_power = 0.35;
    const double p = *bargain(Bargaining::nash, in);
    const auto product = [&](double q) {
        return std::pow(in.lab_value - q - in.lab_outside, in.lab_power) *
               std::pow(q - in.seller_cost - in.seller_outside, 1 - in.lab_power);
    };
    CHECK(product(p) >= product(p - 1e-3));
    CHECK(product(p) >= product(p + 1e-3));
}

TEST_CASE("no deal when the surplus is negative, under every protocol") {
    BargainingInputs in;
    in.lab_value = 3;
    in.lab_outside = 1;      // the lab pays at most 2
    in.seller_cost = 1.9;
    in.seller_outside = 0.3; // the seller takes at least 2.2
    CHECK_FALSE(bargain(Bargaining::nash, in));
    CHECK_FALSE(bargain(Bargaining::rubinstein, in));
    in.markup = 0.1;         // posted 2.09 > 2
    CHECK_FALSE(bargain(Bargaining::posted, in));
}

TEST_CASE("Rubinstein shares and their limit") {
    // The proposer keeps (1 - d2) / (1 - d1 d2).
    CHECK(rubinstein_proposer_share(0.9, 0.8) == doctest::Approx(0.2 / 0.28));
    CHECK(rubinstein_proposer_share(0.5, 0.5) == doctest::Approx(0.5 / 0.75));
    // An impatient responder gives the proposer more.
    CHECK(rubinstein_proposer_share(0.9, 0.5) > rubinstein_proposer_share(0.9, 0.9));
    // Equal discount factors approaching 1: the split tends to one half (beta = 1/2).
    for (double d : {0.9, 0.99, 0.999, 0.9999})
        CHECK(rubinstein_proposer_share(d, d) == doctest::Approx(1.0 / (1.0 + d)));
    CHECK(rubinstein_proposer_share(0.99999, 0.99999) == doctest::Approx(0.5).epsilon(1e-4));
    // The price: the lab proposes, keeps its share of the surplus 6 - 2.
    BargainingInputs in;
    in.lab_value = 6;
    in.seller_cost = 2;
    in.lab_discount = 0.9;
    in.seller_discount = 0.8;
    CHECK(*bargain(Bargaining::rubinstein, in) == doctest::Approx(6 - (0.2 / 0.28) * 4));
    // And with both patient it meets Nash with beta = 1/2.
    in.lab_discount = in.seller_discount = 0.99999;
    in.lab_power = 0.5;
    CHECK(*bargain(Bargaining::rubinstein, in) == doctest::Approx(*bargain(Bargaining::nash, in)).epsilon(1e-4));
}

TEST_CASE("posted prices: the seller's markup, taken or left") {
    BargainingInputs in;
    in.lab_value = 5;
    in.seller_cost = 2;
    in.markup = 0.25;
    CHECK(*bargain(Bargaining::posted, in) == doctest::Approx(2.5));
}

TEST_CASE("ROFR: the holder matches when the price covers its cost and it can deliver") {
    CHECK(rofr_matches(2.5, 2.0, 100000, 50000));
    CHECK(rofr_matches(2.0, 2.0, 50000, 50000));   // exactly at cost, exactly enough
    CHECK_FALSE(rofr_matches(1.9, 2.0, 100000, 50000));
    CHECK_FALSE(rofr_matches(2.5, 2.0, 40000, 50000));
}

TEST_CASE("exclusivity buy-out sized by hand (MODEL.md 8)") {
    // Holder sells at 2.5 with cost 1.5; it would lose 100k H100e over 24 months:
    // X = 1.0 * 100000 * 24 * 730 = 1.752e9. The lab lacks 300k H100e valued at 4:
    // Y = 300000 * 4 * 24 * 730 = 2.1024e10. With beta = 0.5:
    // W = X + 0.5 (Y - X) = 1.1388e10; margin rate 1/2.5 = 0.4: commitment 2.847e10.
    WaiverInputs in;
    in.price = 2.5;
    in.holder_cost = 1.5;
    in.lost_volume = 100000;
    in.unmet_need = 300000;
    in.lab_value = 4;
    in.remaining_months = 24;
    in.lab_power = 0.5;
    const auto w = price_waiver(in);
    REQUIRE(w);
    CHECK(w->holder_value == doctest::Approx(1.752e9));
    CHECK(w->lab_value == doctest::Approx(2.1024e10));
    CHECK(w->price == doctest::Approx(1.1388e10));
    CHECK(w->commitment_usd == doctest::Approx(2.847e10));
    // When freedom is worth less than the clause, there is no waiver.
    in.unmet_need = 10000;
    CHECK_FALSE(price_waiver(in));
}
