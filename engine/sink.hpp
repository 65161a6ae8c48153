#pragma once
// How results leave a run: the runner hands each finished replication to a
// sink (output/ implements one for HDF5). The engine never includes the writer.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "engine/record.hpp"
#include "engine/time.hpp"

namespace entangle {

// Everything a writer needs to lay out a results file before the first record.
struct RunLayout {
    std::string command;          // "run", "compare", "sweep"
    std::uint64_t seed = 0;
    std::string scenario_yaml;    // fully resolved scenario text
    std::string sweep_yaml;       // empty unless a sweep
    // More root attributes, e.g. compare's scenario_yaml_b (B's resolved text).
    std::vector<std::pair<std::string, std::string>> extra_attributes;
    std::vector<std::string> point_labels;  // "baseline"; "A","B"; "0".."n-1"
    int replications = 0;
    std::vector<Month> times;     // the recorded months
    std::vector<std::string> firm_names;
    std::vector<std::string> firm_roles;    // "lab+cloud" etc., one per firm
    std::vector<std::string> chip_names;
    std::vector<std::string> region_names;
    std::vector<std::string> drawn_param_names;  // Scenario::uncertain key paths
    bool network = true;
    std::vector<std::string> firm_series;   // names of recorded firm series (subset of firm_series_info)
    std::vector<std::string> market_series;
    std::vector<std::string> chip_series;
};

class RecordSink {
public:
    virtual ~RecordSink() = default;
    // Called concurrently from worker threads, once per record and before
    // write(record); may do expensive, thread-safe work that needs no shared
    // mutable state (the HDF5 writer compresses the record's chunks here and
    // keeps them in record.encoded). A sink that wraps another forwards it.
    virtual void encode(ReplicationRecord& /*record*/) const {}
    // Called from one thread at a time, in any replication order.
    virtual void write(const ReplicationRecord& record) = 0;
    // complete: every replication was written; the sink makes the file final.
    virtual void finish(bool complete) = 0;
};

}  // namespace entangle

namespace entangle {
struct Scenario;
// The layout of a results file for points of one scenario (coordinates from the scenario).
RunLayout make_layout(const Scenario& sc, std::string command, std::uint64_t seed, int replications,
                      std::vector<std::string> point_labels);
}  // namespace entangle
