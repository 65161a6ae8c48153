#pragma once
// The schema of every section of a scenario file, in the order the reference
// documents them. build.cpp reads a file with them; reference.cpp renders them.
#include "engine/scenario/schema.hpp"

namespace entangle::loader {

const Schema<Scenario>& top_level_schema();  // the sections themselves (build.cpp)
const Schema<Scenario>& header_schema();     // scenario:
const Schema<MarketSpec>& market_schema();
const Schema<ChipSpec>& chip_schema();
const Schema<RegionSpec>& region_schema();
const Schema<FirmSpec>& firm_schema();
const Schema<LabRole>& lab_schema();
const Schema<CloudRole>& cloud_schema();
const Schema<FleetHolding>& fleet_schema();
const Schema<ChipmakerRole>& chipmaker_schema();
const Schema<ContractSpec>& contract_schema();  // deals.cpp
const Schema<EventSpec>& event_schema();        // deals.cpp
const Schema<AgiSpec>& agi_schema();
const Schema<OutputSpec>& output_schema();

// Readers of the sections that are not a plain map of declared keys.
void read_equity(Scenario& sc, const Tree& t, const Where& w, Reader& r);     // deals.cpp
void read_contracts(Scenario& sc, const Tree& t, const Where& w, Reader& r);  // deals.cpp
void read_events(Scenario& sc, const Tree& t, const Where& w, Reader& r);     // deals.cpp

// The location of a list item in messages: `contracts.msft_openai` when it has a valid id, else
// `contracts[2]`.
Where item_where(const Where& list, const Tree& item, std::size_t index);

// Applies f to every Param of the scenario, nested ones included.
void for_each_param(Scenario& sc, const std::function<void(Param&)>& f);
// The parameter at a dotted key path (as in --set and set/scale/shock events), or null.
Param* find_param(Scenario& sc, std::string_view path);

}  // namespace entangle::loader
