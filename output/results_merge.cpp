#include "output/results_merge.hpp"

#include <algorithm>
#include <optional>
#include <string>

#include "output/results_reader.hpp"
#include "output/results_writer.hpp"

namespace entangle {

namespace fs = std::filesystem;

namespace {

std::string attribute(const RunLayout& layout, const std::string& name) {
    for (const auto& [key, value] : layout.extra_attributes)
        if (key == name) return value;
    return "";
}

}  // namespace

std::size_t merge_shards(const std::vector<fs::path>& shards, const fs::path& out) {
    if (shards.empty()) throw ShardMismatch("merge: expected shard files (entangle merge SHARD.h5... -o OUT.h5)");
    std::vector<RunLayout> layouts;
    for (const fs::path& s : shards) {
        RunLayout layout = read_layout(s);
        if (layout.command != "sweep" || attribute(layout, "sweep_identity").empty())
            throw ShardMismatch("merge: '" + s.string() + "' is not a shard of a sweep (command '" + layout.command + "')");
        if (read_attribute_uint(s, "/", "complete") == 0)
            throw ShardMismatch("merge: '" + s.string() +
                                "' is incomplete (complete=false); finish it with `entangle sweep ... --shard I/N "
                                "--resume` first");
        if (attribute(layout, "sweep_identity") != attribute(layouts.empty() ? layout : layouts.front(), "sweep_identity"))
            throw ShardMismatch("merge: '" + s.string() + "' belongs to a different sweep than '" + shards.front().string() +
                                "' (sweep file, base scenario, --set, --seed or --replications differ)");
        layouts.push_back(std::move(layout));
    }
    const std::string total_text = attribute(layouts.front(), "sweep_points");
    const std::uint32_t total = total_text.empty() ? 0 : static_cast<std::uint32_t>(std::stoul(total_text));
    struct Where {
        std::size_t shard = 0;
        std::uint32_t local = 0;
        bool found = false;
    };
    std::vector<Where> where(total);
    for (std::size_t s = 0; s < layouts.size(); ++s)
        for (std::size_t i = 0; i < layouts[s].point_labels.size(); ++i) {
            const std::uint32_t g = static_cast<std::uint32_t>(std::stoul(layouts[s].point_labels[i]));
            if (g >= total) throw ShardMismatch("merge: '" + shards[s].string() + "' holds point " + std::to_string(g) + " of a sweep of " + total_text);
            if (where[g].found)
                throw ShardMismatch("merge: point " + std::to_string(g) + " is in both '" + shards[where[g].shard].string() +
                                    "' and '" + shards[s].string() + "' (a shard given twice?)");
            where[g] = Where{s, static_cast<std::uint32_t>(i), true};
        }
    std::string missing;
    std::size_t missing_count = 0;
    for (std::uint32_t g = 0; g < total; ++g)
        if (!where[g].found && ++missing_count <= 10) missing += (missing.empty() ? "" : ", ") + std::to_string(g);
    if (missing_count > 0)
        throw ShardMismatch("merge: " + std::to_string(missing_count) + " of " + total_text + " points are in no shard (" +
                            missing + (missing_count > 10 ? ", ..." : "") + "); give every shard of the sweep");

    RunLayout merged = layouts.front();
    merged.point_labels.clear();
    for (std::uint32_t g = 0; g < total; ++g) merged.point_labels.push_back(std::to_string(g));
    for (std::size_t j = 0; j < merged.swept_params.size(); ++j) {
        RunLayout::SweptParam& sp = merged.swept_params[j];
        sp.values.assign(total, 0);
        for (std::uint32_t g = 0; g < total; ++g) {
            const RunLayout::SweptParam& from = layouts[where[g].shard].swept_params.at(j);
            double v = from.values.at(where[g].local);
            if (sp.type == RunLayout::SweptParam::Type::text) {  // indices into each shard's own labels
                const std::string& label = from.labels.at(static_cast<std::size_t>(v));
                auto at = std::find(sp.labels.begin(), sp.labels.end(), label);
                if (at == sp.labels.end()) at = sp.labels.insert(sp.labels.end(), label);
                v = static_cast<double>(at - sp.labels.begin());
            }
            sp.values[g] = v;
        }
    }
    std::erase_if(merged.extra_attributes, [](const auto& a) { return a.first == "shard"; });

    // The tables' text columns as the shards stored them (the same sweep: the same widths;
    // the wider if not, variable-length if any shard's is).
    WriterOptions options;
    for (std::size_t s = 0; s < shards.size(); ++s) {
        const TableTextBounds b = read_table_text_bounds(shards[s]);
        options.table_text = s == 0 ? b : wider_table_text(options.table_text, b);
    }
    ResultsWriter writer(out, merged, options);
    std::vector<StoredRecordReader::ChunkedDataset> datasets;
    for (const ResultsWriter::ChunkedDataset& d : writer.chunked_datasets()) datasets.push_back({d.path, d.chunk});
    std::vector<StoredRecordReader> readers;
    for (const fs::path& s : shards) readers.emplace_back(s, datasets, writer.times());
    const auto records = static_cast<std::uint32_t>(merged.statistics.empty() ? merged.replications : merged.statistics.size());
    for (std::uint32_t g = 0; g < total; ++g)
        for (std::uint32_t r = 0; r < records; ++r) {
            ReplicationRecord record = readers[where[g].shard].read(where[g].local, r);
            record.point = g;
            writer.write(record);
        }
    writer.finish(true);
    return total;
}

}  // namespace entangle
