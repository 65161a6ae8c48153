#pragma once
// The standard behaviour of labs, clouds and chipmakers (MODEL.md section 5).
// Strategies selected by name in the scenario (chipmaker pricing and
// allocation) are dispatched here; the engine sees only AgentModel.
#include "engine/agent_model.hpp"

namespace entangle::agents {

class StandardModel final : public AgentModel {
public:
    void chipmaker_supply(World& w, RoleIndex chipmaker) const override;
    void lab_plan(World& w, RoleIndex lab) const override;
    void cloud_asks(const World& w, RoleIndex cloud, std::span<const double> utilisations,
                    std::span<double> asks) const override;
    void lab_use(World& w, RoleIndex lab) const override;
    void cloud_invest(World& w, RoleIndex cloud) const override;
    void chipmakers_reprice(World& w) const override;
    void lab_finance(World& w, RoleIndex lab) const override;
};

}  // namespace entangle::agents
