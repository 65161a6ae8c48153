#pragma once
// The decisions firms make, behind one small interface so that the step loop
// (engine/simulation.cpp) stays in the engine and strategies live in agents/.
// Each call is for one role of one firm; the engine visits firms in id (name) order.
#include <span>

#include "engine/world.hpp"

namespace entangle {

class AgentModel {
public:
    virtual ~AgentModel() = default;

    // Supply: decide this step's production of each family and set
    // ChipOrder::shipping on the vendor's open orders (the engine ships them).
    virtual void chipmaker_supply(World& w, RoleIndex chipmaker) const = 0;
    // Procurement: need (training, inference) and the bid value for unmet need.
    virtual void lab_plan(World& w, RoleIndex lab) const = 0;
    // Spot: the cloud's asks, USD per H100e-hour, for capacity that would bring
    // its utilisation to each of `utilisations` (the engine offers residual
    // capacity in tranches along this supply curve), written to `asks`. Asks
    // must not fall as utilisation rises: the engine asks for the top tranche
    // alone to learn a cloud's dearest ask, and for the rest only when the
    // market is not short (clear_spot_market).
    virtual void cloud_asks(const World& w, RoleIndex cloud, std::span<const double> utilisations,
                            std::span<double> asks) const = 0;
    // Use: split held compute into training and inference.
    virtual void lab_use(World& w, RoleIndex lab) const = 0;
    // Invest: order chips and start construction (engine/simulation.hpp helpers).
    virtual void cloud_invest(World& w, RoleIndex cloud) const = 0;
    // Invest: all chipmakers reprice at once (simultaneous moves).
    virtual void chipmakers_reprice(World& w) const = 0;
    // Finance: funding rounds and valuation of a lab.
    virtual void lab_finance(World& w, RoleIndex lab) const = 0;
};

}  // namespace entangle
