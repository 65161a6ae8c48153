#include "output/results_writer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstring>
#include <ctime>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "output/deflate.hpp"
#include "output/hdf5_handle.hpp"
#include "output/tables.hpp"

namespace entangle {

std::filesystem::path partial_path_for(const std::filesystem::path& final_path) {
    std::filesystem::path partial = final_path;
    partial += ".partial";
    return partial;
}

namespace {

using Dims = std::vector<std::string>;

constexpr hsize_t max_chunk_bytes = hsize_t{4} << 20;  // 4 MiB
constexpr hsize_t contract_chunk_rows = 1024;
constexpr hsize_t event_chunk_rows = 2048;
constexpr auto flush_interval = std::chrono::seconds(30);

std::string utc_now() {
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buffer[32];
    std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buffer;
}

// The dataset name of a drawn parameter: key paths are dotted
// ("firms.openai.lab.training_growth"); '.' becomes "__" so the name is a
// Python identifier for xarray (ds.firms__openai__lab__training_growth), and
// '/' (an HDF5 path separator) becomes '_'. The attribute key_path keeps the
// original.
std::string param_dataset_name(const std::string& key_path) {
    std::string name;
    for (const char c : key_path) {
        if (c == '.') {
            name += "__";
        } else if (c == '/') {
            name += '_';
        } else {
            name += c;
        }
    }
    return name;
}

template <std::size_t N>
std::size_t series_index(const std::array<SeriesInfo, N>& info, const std::string& name, const char* group) {
    for (std::size_t i = 0; i < N; ++i)
        if (info[i].name == name) return i;
    std::string valid;
    for (const SeriesInfo& s : info) valid += (valid.empty() ? "" : ", ") + std::string(s.name);
    throw OutputError("unknown " + std::string(group) + " series '" + name +
                      "' in the run layout; valid: " + valid);
}

// One chunk per record slab: (1, 1, rest of the dims), halving time while the
// chunk is over 4 MiB. Empty when a dimension is 0 (HDF5 cannot chunk that).
std::vector<hsize_t> slab_chunks(const std::vector<hsize_t>& dims, hsize_t element_bytes) {
    if (std::find(dims.begin(), dims.end(), hsize_t{0}) != dims.end()) return {};
    std::vector<hsize_t> chunk = dims;
    chunk[0] = chunk[1] = 1;
    auto bytes = [&] {
        hsize_t b = element_bytes;
        for (const hsize_t c : chunk) b *= c;
        return b;
    };
    while (chunk.size() > 2 && bytes() > max_chunk_bytes && chunk[2] > 1) chunk[2] = (chunk[2] + 1) / 2;
    return chunk;
}

// A dataset whose record slab is stored as whole chunks, each (1, 1,
// chunk[2], rest of the dims): the slab, split on time, is ceil(times /
// chunk[2]) chunks, contiguous in the record's array one after the other.
struct ChunkPlan {
    enum class Source : std::uint8_t { firm, market, chip, capacity_flow, equity };
    Source source;
    std::size_t offset = 0;           // first element of the slab in the record's array
    hid_t dataset = H5I_INVALID_HID;  // not owned: one of the writer's handles
    std::vector<hsize_t> chunk;       // the dataset's chunk dims
    std::size_t element_bytes = 0;    // 8 (float64) or 4 (float32)

    std::size_t chunk_elements() const {
        std::size_t n = 1;
        for (const hsize_t c : chunk) n *= c;
        return n;
    }
    std::size_t chunk_count(hsize_t times) const { return (times + chunk[2] - 1) / chunk[2]; }
};

const unsigned char* source_bytes(const ReplicationRecord& r, ChunkPlan::Source source) {
    switch (source) {
        case ChunkPlan::Source::firm:
            return reinterpret_cast<const unsigned char*>(r.firm.data());
        case ChunkPlan::Source::market:
            return reinterpret_cast<const unsigned char*>(r.market.data());
        case ChunkPlan::Source::chip:
            return reinterpret_cast<const unsigned char*>(r.chip.data());
        case ChunkPlan::Source::capacity_flow:
            return reinterpret_cast<const unsigned char*>(r.capacity_flow.data());
        case ChunkPlan::Source::equity:
            return reinterpret_cast<const unsigned char*>(r.equity.data());
    }
    return nullptr;
}

// HDF5's shuffle filter (H5Z_filter_shuffle) on a whole chunk of n elements:
// byte b of element j goes to b * n + j. The first `elements` come from
// `data`; the rest (the part of an edge chunk past the dataset's extent, which
// is never read) are the fill value NaN.
template <typename T>
void shuffle_chunk(const unsigned char* data, std::size_t elements, std::size_t n, unsigned char* out) {
    constexpr std::size_t bytes = sizeof(T);
    const T nan = std::numeric_limits<T>::quiet_NaN();
    unsigned char fill[bytes];
    std::memcpy(fill, &nan, bytes);
    for (std::size_t b = 0; b < bytes; ++b) {
        unsigned char* row = out + b * n;
        const unsigned char* in = data + b;
        for (std::size_t j = 0; j < elements; ++j) row[j] = in[j * bytes];
        std::fill(row + elements, row + n, fill[b]);
    }
}

// The bytes HDF5 stores for one chunk under shuffle, then deflate at `level`
// (none at 0): what HDF5's filter pipeline would store, up to the choice of
// deflate encoder (byte plane by byte plane: output/deflate.hpp).
std::vector<unsigned char> encode_chunk(const unsigned char* data, std::size_t elements,
                                        const ChunkPlan& plan, int level,
                                        std::vector<unsigned char>& shuffled,
                                        std::vector<unsigned char>& compressed) {
    const std::size_t n = plan.chunk_elements();
    const std::size_t raw_bytes = n * plan.element_bytes;
    shuffled.resize(raw_bytes);
    if (plan.element_bytes == 8)
        shuffle_chunk<double>(data, elements, n, shuffled.data());
    else
        shuffle_chunk<float>(data, elements, n, shuffled.data());
    if (level == 0) return shuffled;
    const std::size_t size = h5::zlib_compress_planes(shuffled.data(), n, plan.element_bytes, level, compressed);
    return {compressed.begin(), compressed.begin() + static_cast<std::ptrdiff_t>(size)};
}

struct Storage {
    std::vector<hsize_t> chunk;  // empty: contiguous, uncompressed
    bool fill_nan = false;
    bool write_whole_chunks = false;  // no chunk cache: each write covers whole chunks
};

// A file dataspace over (point, replication, ...) and a memory space of one
// record's slab, reused for every record of a dataset family.
class Slab {
public:
    Slab() = default;
    explicit Slab(const std::vector<hsize_t>& dims) : start_(dims.size(), 0), count_(dims) {
        file_ = h5::make_space(static_cast<int>(dims.size()), dims.data());
        count_[0] = count_[1] = 1;
        elements_ = 1;
        for (const hsize_t c : count_) elements_ *= c;
        // Same rank and shape as the file selection: HDF5 then maps chunks by
        // blocks instead of element by element (10x faster).
        memory_ = h5::make_space(static_cast<int>(count_.size()), count_.data());
    }
    void write(hid_t dataset, hid_t memory_type, const void* data, std::uint32_t point, std::uint32_t rep) {
        if (elements_ == 0) return;
        start_[0] = point;
        start_[1] = rep;
        h5::check(
            H5Sselect_hyperslab(file_.get(), H5S_SELECT_SET, start_.data(), nullptr, count_.data(), nullptr),
            "select slab of", dataset);
        h5::check(H5Dwrite(dataset, memory_type, memory_.get(), file_.get(), H5P_DEFAULT, data), "write",
                  dataset);
    }

private:
    h5::Dataspace file_, memory_;
    std::vector<hsize_t> start_, count_;
    hsize_t elements_ = 0;
};

}  // namespace

namespace {

// Flat indices (point * replications + replication) of the written records as
// "0-626,630": a run interrupted in order leaves one range.
std::string written_ranges(const std::vector<bool>& written) {
    std::string text;
    for (std::size_t i = 0; i < written.size();) {
        if (!written[i]) {
            ++i;
            continue;
        }
        std::size_t end = i;
        while (end + 1 < written.size() && written[end + 1]) ++end;
        if (!text.empty()) text += ',';
        text += std::to_string(i);
        if (end > i) text += "-" + std::to_string(end);
        i = end + 1;
    }
    return text;
}

// Past this an attribute needs HDF5's dense storage; a run this scattered is rerun instead.
constexpr std::size_t max_written_ranges_text = 60000;

}  // namespace

struct ResultsWriter::Impl {
    struct Series {
        std::size_t index;  // position in the record's array
        h5::Dataset dataset;
    };

    std::filesystem::path final_path, partial_path;
    WriterOptions options;
    hsize_t points = 0, replications = 0, times = 0, firms = 0, chips = 0;
    bool network = false;

    h5::File file;
    std::vector<Series> firm, market, chip;
    h5::Dataset capacity_flow, equity;
    std::vector<h5::Dataset> params;
    h5::Dataset contracts, events;
    h5::TableFormat contract_format, event_format;
    h5::Datatype contract_memory_type, event_memory_type;
    Slab firm_slab, market_slab, chip_slab, network_slab;
    hsize_t contract_rows = 0, event_rows = 0;
    std::optional<h5::RowPacker> contract_buffer, event_buffer;  // over contract_format, event_format
    std::size_t table_row_bytes = 0;  // the larger stored row (contracts, events), for the conversion buffer

    // Fixed once the constructor returns, so encode() may read it on any
    // thread while write() runs: the chunks of a record, in record.encoded's order.
    std::vector<ChunkPlan> chunk_plan;
    std::size_t encoded_chunks = 0;  // chunks per record: sum of chunk_count(times)

    std::vector<bool> written;  // [point * replications + replication]
    std::size_t written_count = 0;
    bool finished = false;
    std::chrono::steady_clock::time_point last_flush;
    // Drawn values of consecutive replications of one point, written as one
    // slab per parameter (a sweep writes a point's replications in order):
    // one H5Dwrite per parameter per record was most of the writer's time.
    std::uint32_t drawn_point = 0, drawn_first = 0, drawn_count = 0;
    std::vector<double> drawn_buffer;  // [parameter][replication - drawn_first]
    void flush_drawn();

    Impl(std::filesystem::path final, const RunLayout& layout, WriterOptions opts);
    std::string misfit(const ReplicationRecord& r, bool arrays = true) const;
    void encode(ReplicationRecord& r) const;
    void write_arrays(const ReplicationRecord& r);
    void write(std::span<const ReplicationRecord> records);
    void append_rows(std::span<const ReplicationRecord> records);
    void append_table(const h5::Dataset& ds, hsize_t& rows, hid_t memory_type, const void* data, hsize_t n);
    void write_encoded(const ReplicationRecord& r);
    // list_written: record replications_written (an incomplete file closed on
    // purpose, by finish(false)); not when the destructor closes it after a failure.
    void finish(bool complete, bool list_written);
    void close_all();
};

namespace {

// Builds one group: its own dimension scales (created on first use, named
// exactly as the dimension) and its variables, each with units, long_name and
// every axis attached to a scale, which is what h5netcdf/xarray read as named
// dimensions with coordinate values.
class GroupBuilder {
public:
    // Creates the group and the scales of `dims`, so a group shows its
    // coordinates even when it has no variables.
    GroupBuilder(hid_t parent, const char* name, const Dims& dims, const RunLayout& layout,
                 const WriterOptions& options)
        : layout_(layout), options_(options) {
        const h5::PropList gcpl = h5::make_plist(H5P_GROUP_CREATE, "create group properties");
        h5::check(H5Pset_link_creation_order(gcpl.get(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED),
                  "set creation order of group", parent, name);
        group_ = h5::own<h5::Group>(H5Gcreate2(parent, name, H5P_DEFAULT, gcpl.get(), H5P_DEFAULT),
                                    "create group", parent, name);
        if (!options_.in_memory)
            for (const std::string& dim : dims) scale(dim);
    }
    hid_t id() const { return group_.get(); }

    hsize_t size(const std::string& dim) const {
        if (dim == "point")
            return options_.described_points ? options_.described_points->range.size() : layout_.point_labels.size();
        if (dim == "replication") return static_cast<hsize_t>(layout_.replications);
        if (dim == "statistic") return layout_.statistics.size();
        if (dim == "time") return layout_.times.size();
        if (dim == "chip") return layout_.chip_names.size();
        if (dim == "region") return layout_.region_names.size();
        return layout_.firm_names.size();  // firm, supplier, customer, holder, target
    }

    // The scale of `dim` in this group, created on first use.
    hid_t scale(const std::string& dim) {
        for (const auto& [name, ds] : scales_)
            if (name == dim) return ds.get();
        h5::Dataset ds;
        if (dim == "replication") {
            std::vector<std::int32_t> index(size(dim));
            for (std::size_t i = 0; i < index.size(); ++i) index[i] = static_cast<std::int32_t>(i);
            ds = variable(dim, "1", "replication index", {dim}, H5T_STD_I32LE, {});
            write_all(ds.get(), H5T_NATIVE_INT32, index.data(), index.size());
        } else if (dim == "time") {
            std::vector<double> days;
            for (const Month m : layout_.times) days.push_back(static_cast<double>(days_since_epoch(m)));
            ds = variable(dim, "days since 1970-01-01", "first day of the recorded month", {dim},
                          H5T_IEEE_F64LE, {});
            h5::write_attribute(ds.get(), "calendar", "proleptic_gregorian");
            h5::write_attribute(ds.get(), "standard_name", "time");
            h5::write_attribute(ds.get(), "axis", "T");
            write_all(ds.get(), H5T_NATIVE_DOUBLE, days.data(), days.size());
        } else if (dim == "point" && options_.described_points) {
            const PointRange range = options_.described_points->range;
            ds = text_variable(dim, label_long_name(dim), {dim}, range.size(),
                               [range](std::size_t i) { return std::to_string(range.at(i)); });
        } else {
            ds = text_variable(dim, label_long_name(dim), {dim}, labels(dim));
        }
        h5::check(H5DSset_scale(ds.get(), dim.c_str()), "make dimension scale", ds.get());
        scales_.emplace_back(dim, std::move(ds));
        return scales_.back().second.get();
    }

    // THE helper: a dataset with units, long_name and its dims attached to
    // this group's scales (the scales themselves pass through here too).
    h5::Dataset variable(const std::string& name, std::string_view units, std::string_view long_name,
                         const Dims& dims, hid_t file_type, const Storage& storage) {
        std::vector<hsize_t> shape;
        for (const std::string& d : dims) shape.push_back(size(d));
        const h5::Dataspace space = h5::make_space(static_cast<int>(shape.size()), shape.data());
        const h5::PropList dcpl = h5::make_plist(H5P_DATASET_CREATE, "create dataset properties");
        const h5::PropList dapl = h5::make_plist(H5P_DATASET_ACCESS, "create dataset properties");
        if (!storage.chunk.empty()) {
            h5::check(H5Pset_chunk(dcpl.get(), static_cast<int>(storage.chunk.size()), storage.chunk.data()),
                      "set chunks of", id(), name);
            h5::check(H5Pset_shuffle(dcpl.get()), "set shuffle filter of", id(), name);
            if (options_.gzip_level > 0)
                h5::check(H5Pset_deflate(dcpl.get(), static_cast<unsigned>(options_.gzip_level)),
                          "set gzip filter of", id(), name);
            if (storage.write_whole_chunks)
                h5::check(H5Pset_chunk_cache(dapl.get(), H5D_CHUNK_CACHE_NSLOTS_DEFAULT, 0,
                                             H5D_CHUNK_CACHE_W0_DEFAULT),
                          "set chunk cache of", id(), name);
        }
        if (storage.fill_nan) {
            // Replications not (yet) written read as NaN, not as 0.
            const double nan = std::numeric_limits<double>::quiet_NaN();
            h5::check(H5Pset_fill_value(dcpl.get(), H5T_NATIVE_DOUBLE, &nan), "set fill value of", id(),
                      name);
        }
        h5::Dataset ds = h5::own<h5::Dataset>(
            H5Dcreate2(id(), name.c_str(), file_type, space.get(), H5P_DEFAULT, dcpl.get(), dapl.get()),
            "create dataset", id(), name);
        // An encoder's file (in_memory) only lends encode() its chunks and
        // filters: no attributes, scales or coordinates (two thirds of its set-up).
        if (options_.in_memory) return ds;
        h5::write_attribute(ds.get(), "units", units);
        h5::write_attribute(ds.get(), "long_name", long_name);
        const bool is_own_scale = dims.size() == 1 && dims[0] == name;
        if (!is_own_scale)
            for (std::size_t axis = 0; axis < dims.size(); ++axis)
                h5::check(H5DSattach_scale(ds.get(), scale(dims[axis]), static_cast<unsigned>(axis)),
                          "attach dimension scale to", ds.get());
        return ds;
    }

    h5::Dataset text_variable(const std::string& name, std::string_view long_name, const Dims& dims,
                              const std::vector<std::string>& values) {
        return text_variable(name, long_name, dims, values.size(), [&](std::size_t i) { return values[i]; });
    }
    // The same with the i-th of n values made on demand (a sweep's point labels, swept words).
    h5::Dataset text_variable(const std::string& name, std::string_view long_name, const Dims& dims, std::size_t n,
                              const std::function<std::string(std::size_t)>& value) {
        const h5::Datatype type = h5::string_type();
        h5::Dataset ds = variable(name, "", long_name, dims, type.get(), {});
        if (dims.size() != 1) throw OutputError("internal error: text variable " + name + " is not one-dimensional");
        std::vector<std::string> texts;
        std::vector<const char*> pointers;
        write_in_blocks(ds.get(), type.get(), n, 16, [&](std::size_t first, std::size_t count) -> const void* {
            texts.clear();
            pointers.clear();
            for (std::size_t i = first; i < first + count; ++i) texts.push_back(value(i));
            for (const std::string& t : texts) pointers.push_back(t.c_str());
            return pointers.data();
        });
        return ds;
    }

    // A one-dimensional dataset of n elements written in blocks of 4096:
    // block(first, count) returns the block's elements in `memory_type`.
    // So neither the values nor HDF5's conversion buffers (sized to what is
    // written) grow with the number of points.
    static void write_in_blocks(hid_t ds, hid_t memory_type, std::size_t n, std::size_t element_bytes,
                                const std::function<const void*(std::size_t, std::size_t)>& block) {
        constexpr std::size_t block_size = 4096;
        const h5::Dataspace file_space = h5::own<h5::Dataspace>(H5Dget_space(ds), "get space of", ds);
        for (std::size_t first = 0; first < n; first += block_size) {
            const hsize_t start = first, count = std::min(block_size, n - first);
            const void* data = block(first, count);
            h5::check(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, &start, nullptr, &count, nullptr),
                      "select values of", ds);
            const h5::Dataspace memory = h5::make_space(1, &count);
            const h5::PropList transfer = h5::conversion_transfer(count, element_bytes);
            h5::check(H5Dwrite(ds, memory_type, memory.get(), file_space.get(), transfer.get(), data), "write", ds);
        }
    }

private:
    static void write_all(hid_t ds, hid_t memory_type, const void* data, std::size_t n) {
        if (n == 0) return;
        const h5::PropList transfer = h5::conversion_transfer(n, 16);  // 16: the larger of a stored vlen string and any number
        h5::check(H5Dwrite(ds, memory_type, H5S_ALL, H5S_ALL, transfer.get(), data), "write", ds);
    }
    const std::vector<std::string>& labels(const std::string& dim) const {
        if (dim == "point") return layout_.point_labels;
        if (dim == "statistic") return layout_.statistics;
        if (dim == "chip") return layout_.chip_names;
        if (dim == "region") return layout_.region_names;
        return layout_.firm_names;
    }
    static const char* label_long_name(const std::string& dim) {
        if (dim == "point") return "point of the run: baseline (run), A and B (compare), sweep point index";
        if (dim == "statistic") return "statistic over the point's replications (docs/sweeps.md)";
        if (dim == "chip") return "accelerator family";
        if (dim == "region") return "datacenter region";
        if (dim == "supplier") return "firm supplying capacity";
        if (dim == "customer") return "firm buying capacity";
        if (dim == "holder") return "firm holding equity";
        if (dim == "target") return "firm whose equity is held";
        return "firm";
    }

    const RunLayout& layout_;
    const WriterOptions& options_;
    h5::Group group_;
    std::vector<std::pair<std::string, h5::Dataset>> scales_;
};

void validate(const RunLayout& layout, const WriterOptions& options) {
    auto bad = [](const std::string& what) { throw OutputError("cannot write results: " + what); };
    if (options.described_points ? options.described_points->range.size() == 0 : layout.point_labels.empty())
        bad("the run layout has no points");
    if (layout.replications < 1)
        bad("the run layout has " + std::to_string(layout.replications) + " replications");
    if (!layout.firm_roles.empty() && layout.firm_roles.size() != layout.firm_names.size())
        bad("the run layout has " + std::to_string(layout.firm_roles.size()) + " firm roles for " +
            std::to_string(layout.firm_names.size()) + " firms");
    if (options.gzip_level < 0 || options.gzip_level > 9)
        bad("gzip level " + std::to_string(options.gzip_level) + " is not in 0..9");
}

}  // namespace

ResultsWriter::Impl::Impl(std::filesystem::path final, const RunLayout& layout, WriterOptions opts)
    : final_path(std::move(final)), partial_path(partial_path_for(final_path)), options(opts) {
    h5::init();
    validate(layout, options);
    points = options.described_points ? options.described_points->range.size() : layout.point_labels.size();
    // Statistics take the place of replications: the same code writes either.
    const std::string rep_dim = layout.statistics.empty() ? "replication" : "statistic";
    replications = layout.statistics.empty() ? static_cast<hsize_t>(layout.replications) : layout.statistics.size();
    times = layout.times.size();
    firms = layout.firm_names.size();
    chips = layout.chip_names.size();
    network = layout.network && !options.skip_network;

    const h5::PropList fcpl = h5::make_plist(H5P_FILE_CREATE, "create file properties");
    h5::check(H5Pset_link_creation_order(fcpl.get(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED),
              "set creation order", -1);
    const h5::PropList fapl = h5::make_plist(H5P_FILE_ACCESS, "create file properties");
    // Closing the file closes it for real, so the rename sees a finished file.
    h5::check(H5Pset_fclose_degree(fapl.get(), H5F_CLOSE_STRONG), "set close degree", -1);
    // HDF5 1.10's format: chunk indexes of fixed-size datasets are fixed
    // arrays (paged, evictable) rather than version-1 B-trees, whose nodes
    // stayed in memory (~100 bytes per sweep point) and took 13% of a
    // statistics sweep's file. Readable by HDF5 1.10 and later (h5py, xarray
    // and netCDF on Debian 12 use 1.10.8).
    h5::check(H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_V110, H5F_LIBVER_V110), "set format version", -1);
    {
        // The metadata cache (chunk index pages, object headers) held at 4 MiB:
        // by default it grows to 32 MiB, keeping a sweep's chunk index in memory.
        H5AC_cache_config_t cache{};
        cache.version = H5AC__CURR_CACHE_CONFIG_VERSION;
        h5::check(H5Pget_mdc_config(fapl.get(), &cache), "get metadata cache settings", -1);
        cache.set_initial_size = true;
        cache.initial_size = std::size_t{1} << 20;
        cache.min_size = std::size_t{1} << 19;
        cache.max_size = std::size_t{1} << 20;
        h5::check(H5Pset_mdc_config(fapl.get(), &cache), "set metadata cache settings", -1);
    }
    if (options.in_memory)
        h5::check(H5Pset_fapl_core(fapl.get(), std::size_t{1} << 20, 0), "set in-memory driver", -1);
    const hid_t id = H5Fcreate(partial_path.c_str(), H5F_ACC_TRUNC, fcpl.get(), fapl.get());
    if (id < 0) h5::fail_file("cannot create results file", partial_path.string());
    file = h5::File(id);
    const hid_t root = file.get();

    h5::write_attribute(root, "schema_version", results_schema_version);
    h5::write_attribute(root, "entangle_version", ENTANGLE_VERSION);
    unsigned major = 0, minor = 0, release = 0;
    H5get_libversion(&major, &minor, &release);
    h5::write_attribute(root, "hdf5_version",
                        std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(release));
    h5::write_attribute(root, "command", layout.command);
    h5::write_attribute(root, "seed", layout.seed);
    h5::write_attribute(root, "created", utc_now());
    h5::write_attribute(root, "scenario_yaml", layout.scenario_yaml);
    if (!layout.sweep_yaml.empty()) h5::write_attribute(root, "sweep_yaml", layout.sweep_yaml);
    for (const auto& [name, text] : layout.extra_attributes) h5::write_attribute(root, name.c_str(), text);
    h5::write_attribute_bool(root, "complete", false);

    if (!options.in_memory) {  // an encoder's file needs no coordinates
        GroupBuilder coords(root, "coords", {"time", "firm", "chip", "region", "point", rep_dim},
                            layout, options);
        std::vector<std::string> roles = layout.firm_roles;
        roles.resize(layout.firm_names.size());
        coords.text_variable("firm_roles", "roles the firm plays (lab, cloud, chipmaker)", {"firm"}, roles);
    }

    auto slab_storage = [](const std::vector<hsize_t>& dims, hsize_t bytes) {
        return Storage{slab_chunks(dims, bytes), true, true};
    };
    // The three groups of series (firm, market, chip) share one shape of layout.
    const auto series_group = [&](const char* group, const Dims& dim_names, const std::vector<hsize_t>& dims,
                                  const std::vector<std::string>& names, const auto& info, std::vector<Series>& out,
                                  Slab& slab) {
        GroupBuilder g(root, group, dim_names, layout, options);
        for (const std::string& name : names) {
            const std::size_t i = series_index(info, name, group);
            out.push_back({i, g.variable(name, info[i].units, info[i].long_name, dim_names, H5T_IEEE_F64LE,
                                         slab_storage(dims, 8))});
        }
        slab = Slab(dims);
    };
    series_group("firm", {"point", rep_dim, "time", "firm"}, {points, replications, times, firms},
                 layout.firm_series, firm_series_info, firm, firm_slab);
    series_group("market", {"point", rep_dim, "time"}, {points, replications, times}, layout.market_series,
                 market_series_info, market, market_slab);
    series_group("chip", {"point", rep_dim, "time", "chip"}, {points, replications, times, chips},
                 layout.chip_series, chip_series_info, chip, chip_slab);
    {
        const Dims network_dims{"point", rep_dim, "time", "supplier", "customer", "holder", "target"};
        GroupBuilder g(root, "network", network ? network_dims : Dims{}, layout, options);
        if (network) {
            const std::vector<hsize_t> dims{points, replications, times, firms, firms};
            const SeriesInfo& f = capacity_flow_info;
            const SeriesInfo& e = equity_info;
            capacity_flow = g.variable(std::string(f.name), f.units, f.long_name,
                                       {"point", rep_dim, "time", "supplier", "customer"},
                                       H5T_IEEE_F32LE, slab_storage(dims, 4));
            equity = g.variable(std::string(e.name), e.units, e.long_name,
                                {"point", rep_dim, "time", "holder", "target"}, H5T_IEEE_F32LE,
                                slab_storage(dims, 4));
            network_slab = Slab(dims);
        } else {
            h5::write_attribute(g.id(), "note",
                                layout.network ? "network matrices skipped by the writer's options"
                                               : "network matrices not recorded (outputs.network: false)");
        }
    }
    {
        GroupBuilder g(root, "params", {"point", rep_dim}, layout, options);
        std::vector<std::string> names;
        for (std::size_t j = 0; j < layout.swept_params.size(); ++j) {
            const RunLayout::SweptParam& sp = layout.swept_params[j];
            const std::string name = param_dataset_name(sp.key_path);
            if (!options.described_points && sp.values.size() != points)
                throw OutputError("cannot write results: swept parameter '" + sp.key_path + "' has " +
                                  std::to_string(sp.values.size()) + " values for " + std::to_string(points) +
                                  " points");
            // The value at the file's point i: listed, or computed (described points).
            const std::function<double(std::size_t)> value = [&, j](std::size_t i) {
                if (!options.described_points) return sp.values[i];
                const auto& d = *options.described_points;
                return d.swept_value(d.range.at(i), j);
            };
            names.push_back(name);
            const std::string long_name = "value of the swept parameter " + sp.key_path + " at each point";
            h5::Dataset ds;
            if (sp.type == RunLayout::SweptParam::Type::text) {
                ds = g.text_variable(name, long_name, {"point"}, points,
                                     [&](std::size_t i) { return sp.labels.at(static_cast<std::size_t>(value(i))); });
            } else if (sp.type == RunLayout::SweptParam::Type::boolean) {
                const h5::Datatype file_type = h5::bool_type(false);
                const h5::Datatype memory_type = h5::bool_type(true);
                ds = g.variable(name, "", long_name, {"point"}, file_type.get(), {});
                std::vector<std::int8_t> flags;
                GroupBuilder::write_in_blocks(ds.get(), memory_type.get(), points, 1,
                                              [&](std::size_t first, std::size_t count) -> const void* {
                                                  flags.clear();
                                                  for (std::size_t i = first; i < first + count; ++i)
                                                      flags.push_back(value(i) != 0 ? 1 : 0);
                                                  return flags.data();
                                              });
            } else {
                ds = g.variable(name, "", long_name, {"point"}, H5T_IEEE_F64LE, {});
                std::vector<double> numbers;
                GroupBuilder::write_in_blocks(ds.get(), H5T_NATIVE_DOUBLE, points, 8,
                                              [&](std::size_t first, std::size_t count) -> const void* {
                                                  numbers.clear();
                                                  for (std::size_t i = first; i < first + count; ++i)
                                                      numbers.push_back(value(i));
                                                  return numbers.data();
                                              });
            }
            h5::write_attribute(ds.get(), "key_path", sp.key_path);
            h5::write_attribute(ds.get(), "role", "swept");
        }
        const hsize_t rep_chunk = std::min<hsize_t>(replications, 4096);
        const hsize_t point_chunk = std::clamp<hsize_t>(4096 / rep_chunk, 1, points);
        for (const std::string& key : layout.drawn_param_names) {
            const std::string name = param_dataset_name(key);
            if (std::find(names.begin(), names.end(), name) != names.end())
                throw OutputError("cannot write results: drawn parameters '" + key +
                                  "' and another one share the dataset name '" + name + "'");
            names.push_back(name);
            h5::Dataset ds = g.variable(name, "",
                                        (layout.statistics.empty() ? "value drawn for the uncertain parameter "
                                                                   : "statistic of the values drawn for ") +
                                            key,
                                        {"point", rep_dim}, H5T_IEEE_F64LE,
                                        Storage{{point_chunk, rep_chunk}, true, false});
            h5::write_attribute(ds.get(), "key_path", key);
            h5::write_attribute(ds.get(), "role", "drawn");
            params.push_back(std::move(ds));
        }
    }
    {
        const h5::PropList gcpl = h5::make_plist(H5P_GROUP_CREATE, "create group properties");
        h5::check(H5Pset_link_creation_order(gcpl.get(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED),
                  "set creation order", root, "tables");
        const h5::Group tables = h5::own<h5::Group>(
            H5Gcreate2(root, "tables", H5P_DEFAULT, gcpl.get(), H5P_DEFAULT), "create group", root, "tables");
        auto table = [&](const char* name, const h5::Datatype& type, hsize_t chunk_rows, const char* units,
                         const char* long_name) {
            const hsize_t zero = 0, unlimited = H5S_UNLIMITED;
            const h5::Dataspace space = h5::make_space(1, &zero, &unlimited);
            const h5::PropList dcpl = h5::make_plist(H5P_DATASET_CREATE, "create dataset properties");
            h5::check(H5Pset_chunk(dcpl.get(), 1, &chunk_rows), "set chunks of", tables.get(), name);
            h5::check(H5Pset_shuffle(dcpl.get()), "set shuffle filter of", tables.get(), name);
            if (options.gzip_level > 0)
                h5::check(H5Pset_deflate(dcpl.get(), static_cast<unsigned>(options.gzip_level)),
                          "set gzip filter of", tables.get(), name);
            h5::Dataset ds = h5::own<h5::Dataset>(
                H5Dcreate2(tables.get(), name, type.get(), space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
                "create table", tables.get(), name);
            h5::write_attribute(ds.get(), "units", units);
            h5::write_attribute(ds.get(), "long_name", long_name);
            return ds;
        };
        contract_format = h5::TableFormat::contracts(options.table_text);
        event_format = h5::TableFormat::events(options.table_text);
        contracts =
            table("contracts", contract_format.file_type(), contract_chunk_rows,
                  "quantity_h100e: H100e; price_usd_per_h100e_hour: USD per H100e-hour; value_usd: USD; "
                  "signed, start, end: YYYY-MM",
                  "one row per contract of every replication");
        events = table("events", event_format.file_type(), event_chunk_rows, "time: YYYY-MM",
                       "one row per event that happened in every replication");
        contract_memory_type = contract_format.memory_type();
        event_memory_type = event_format.memory_type();
        contract_buffer.emplace(contract_format, "/tables/contracts");
        event_buffer.emplace(event_format, "/tables/events");
        table_row_bytes = std::max(contract_format.row_bytes(), event_format.row_bytes());
    }

    {
        // Chunks and filters as the file has them, so the plan cannot drift from the layout above.
        auto plan = [&](ChunkPlan::Source source, std::size_t offset, const h5::Dataset& ds, int rank,
                        std::size_t element_bytes) {
            const h5::PropList dcpl =
                h5::own<h5::PropList>(H5Dget_create_plist(ds.get()), "get creation properties of", ds.get());
            if (H5Pget_layout(dcpl.get()) != H5D_CHUNKED) return;  // a dimension is 0: nothing to write
            ChunkPlan p{source, offset, ds.get(), std::vector<hsize_t>(static_cast<std::size_t>(rank)),
                        element_bytes};
            h5::check(H5Pget_chunk(dcpl.get(), rank, p.chunk.data()), "get chunks of", ds.get());
            const int filters = H5Pget_nfilters(dcpl.get());
            auto filter = [&](unsigned i) {
                unsigned flags = 0;
                std::size_t n = 0;
                return H5Pget_filter2(dcpl.get(), i, &flags, &n, nullptr, 0, nullptr, nullptr);
            };
            const bool deflate = options.gzip_level > 0;
            if (p.chunk[0] != 1 || p.chunk[1] != 1 || filters != (deflate ? 2 : 1) ||
                filter(0) != H5Z_FILTER_SHUFFLE || (deflate && filter(1) != H5Z_FILTER_DEFLATE))
                throw OutputError("internal error: " + h5::object_name(ds.get()) +
                                  " is not stored as one shuffled, deflated chunk per record");
            encoded_chunks += p.chunk_count(times);
            chunk_plan.push_back(std::move(p));
        };
        using S = ChunkPlan::Source;
        for (const Series& s : firm) plan(S::firm, s.index * times * firms, s.dataset, 4, 8);
        for (const Series& s : market) plan(S::market, s.index * times, s.dataset, 3, 8);
        for (const Series& s : chip) plan(S::chip, s.index * times * chips, s.dataset, 4, 8);
        if (network) {
            plan(S::capacity_flow, 0, capacity_flow, 5, 4);
            plan(S::equity, 0, equity, 5, 4);
        }
    }

    written.assign(points * replications, false);
    h5::check(H5Fflush(root, H5F_SCOPE_GLOBAL), "flush", root);
    last_flush = std::chrono::steady_clock::now();
}

std::string ResultsWriter::Impl::misfit(const ReplicationRecord& r, bool arrays) const {
    std::string why;
    if (!arrays) {
        // A record already encoded (a sweep frees its arrays once compressed): the chunks and drawn values.
        if (r.encoded.size() != encoded_chunks)
            why = "it has " + std::to_string(r.encoded.size()) + " encoded chunks but the layout needs " +
                  std::to_string(encoded_chunks);
        else if (r.drawn.size() != params.size())
            why = "number of drawn values is " + std::to_string(r.drawn.size()) + " but the layout needs " +
                  std::to_string(params.size());
        return why;
    }
    auto same = [&](const char* what, std::size_t got, std::size_t want) {
        if (why.empty() && got != want)
            why = std::string(what) + " is " + std::to_string(got) + " but the layout needs " +
                  std::to_string(want);
    };
    same("shape.times", static_cast<std::size_t>(r.shape.times), times);
    same("shape.firms", static_cast<std::size_t>(r.shape.firms), firms);
    same("shape.chips", static_cast<std::size_t>(r.shape.chips), chips);
    same("firm array size", r.firm.size(), static_cast<std::size_t>(FirmSeries::count) * times * firms);
    same("market array size", r.market.size(), static_cast<std::size_t>(MarketSeries::count) * times);
    same("chip array size", r.chip.size(), static_cast<std::size_t>(ChipSeries::count) * times * chips);
    same("number of drawn values", r.drawn.size(), params.size());
    if (network) {
        same("capacity_flow array size", r.capacity_flow.size(), times * firms * firms);
        same("equity array size", r.equity.size(), times * firms * firms);
    }
    return why;
}

// Reads only what the constructor fixed (chunk_plan, dims, options) and the
// record: no HDF5 call (the serial library is not thread-safe).
void ResultsWriter::Impl::encode(ReplicationRecord& r) const {
    r.encoded.clear();
    // The datasets are little-endian: on another host, write() lets HDF5 convert.
    if constexpr (std::endian::native != std::endian::little) return;
    if (!misfit(r).empty()) return;  // write() reports it
    r.encoded.reserve(encoded_chunks);
    std::vector<unsigned char> shuffled, compressed;
    for (const ChunkPlan& p : chunk_plan) {
        const unsigned char* slab = source_bytes(r, p.source) + p.offset * p.element_bytes;
        const std::size_t row_bytes = p.chunk_elements() / p.chunk[2] * p.element_bytes;  // one time step
        for (hsize_t t = 0; t < times; t += p.chunk[2]) {
            const hsize_t rows = std::min<hsize_t>(p.chunk[2], times - t);
            r.encoded.push_back(encode_chunk(slab + t * row_bytes, rows * row_bytes / p.element_bytes, p,
                                             options.gzip_level, shuffled, compressed));
        }
    }
}

// Each chunk as encode() prepared it, with all of the dataset's filters applied
// (filter mask 0), at its chunk-aligned offset.
void ResultsWriter::Impl::write_encoded(const ReplicationRecord& r) {
    std::size_t next = 0;
    std::vector<hsize_t> offset;
    for (const ChunkPlan& p : chunk_plan) {
        offset.assign(p.chunk.size(), 0);
        offset[0] = r.point;
        offset[1] = r.replication;
        for (hsize_t t = 0; t < times; t += p.chunk[2]) {
            offset[2] = t;
            const std::vector<unsigned char>& bytes = r.encoded[next++];
            h5::check(H5Dwrite_chunk(p.dataset, H5P_DEFAULT, 0, offset.data(), bytes.size(), bytes.data()),
                      "write chunk of", p.dataset);
        }
    }
}

void ResultsWriter::Impl::write_arrays(const ReplicationRecord& r) {
    auto bad = [&](const std::string& what) {
        throw OutputError("cannot write the record of point " + std::to_string(r.point) + ", replication " +
                          std::to_string(r.replication) + " to '" + partial_path.string() + "': " + what);
    };
    if (finished) bad("the writer is already finished");
    if (r.point >= points) bad("the layout has " + std::to_string(points) + " points");
    if (r.replication >= replications)
        bad("the layout has " + std::to_string(replications) + " replications");
    const std::size_t slot = r.point * replications + r.replication;
    if (written[slot]) bad("it was already written");
    const bool pre_encoded = encoded_chunks > 0 && r.encoded.size() == encoded_chunks;
    if (const std::string why = misfit(r, !pre_encoded && !(encoded_chunks == 0 && r.firm.empty())); !why.empty())
        bad(why);

    if (pre_encoded) {
        write_encoded(r);
    } else {
        for (const Series& s : firm)
            firm_slab.write(s.dataset.get(), H5T_NATIVE_DOUBLE, r.firm.data() + s.index * times * firms,
                            r.point, r.replication);
        for (const Series& s : market)
            market_slab.write(s.dataset.get(), H5T_NATIVE_DOUBLE, r.market.data() + s.index * times, r.point,
                              r.replication);
        for (const Series& s : chip)
            chip_slab.write(s.dataset.get(), H5T_NATIVE_DOUBLE, r.chip.data() + s.index * times * chips,
                            r.point, r.replication);
        if (network) {
            network_slab.write(capacity_flow.get(), H5T_NATIVE_FLOAT, r.capacity_flow.data(), r.point,
                               r.replication);
            network_slab.write(equity.get(), H5T_NATIVE_FLOAT, r.equity.data(), r.point, r.replication);
        }
    }
    if (!params.empty()) {
        if (drawn_count > 0 && (r.point != drawn_point || r.replication != drawn_first + drawn_count)) flush_drawn();
        if (drawn_count == 0) drawn_point = r.point, drawn_first = r.replication;
        const std::size_t capacity = static_cast<std::size_t>(replications);
        drawn_buffer.resize(params.size() * capacity);
        for (std::size_t i = 0; i < params.size(); ++i) drawn_buffer[i * capacity + drawn_count] = r.drawn[i];
        ++drawn_count;
    }

    written[slot] = true;
    ++written_count;
}


void ResultsWriter::Impl::write(std::span<const ReplicationRecord> records) {
    for (const ReplicationRecord& r : records) write_arrays(r);
    append_rows(records);
    // A run killed outright still leaves a readable .partial up to the last flush.
    if (options.periodic_flush && std::chrono::steady_clock::now() - last_flush > flush_interval) {
        flush_drawn();
        h5::check(H5Fflush(file.get(), H5F_SCOPE_GLOBAL), "flush", file.get());
        last_flush = std::chrono::steady_clock::now();
    }
}

// The rows of `records` appended to /tables in one write per table: per
// replication, H5Dset_extent and H5Dwrite cost more than the rows themselves.
void ResultsWriter::Impl::append_rows(std::span<const ReplicationRecord> records) {
    h5::RowPacker& c_rows = *contract_buffer;
    h5::RowPacker& e_rows = *event_buffer;
    c_rows.clear();
    e_rows.clear();
    for (const ReplicationRecord& r : records) {
        for (const ContractRow& c : r.contracts) {
            c_rows.begin_row();
            c_rows.u32(r.point);
            c_rows.u32(r.replication);
            for (const std::string* t : {&c.id, &c.kind, &c.seller, &c.buyer, &c.signed_month, &c.start, &c.end})
                c_rows.text(*t);
            c_rows.f64(c.quantity_h100e);
            c_rows.f64(c.price_usd_per_h100e_hour);
            c_rows.f64(c.value_usd);
            c_rows.flag(c.exclusive);
            c_rows.flag(c.rofr);
            c_rows.flag(c.until_agi);
            c_rows.text(c.status);
            c_rows.text(c.end_reason);
        }
        for (const EventRow& e : r.events) {
            e_rows.begin_row();
            e_rows.u32(r.point);
            e_rows.u32(r.replication);
            for (const std::string* t : {&e.time, &e.kind, &e.firms, &e.text}) e_rows.text(*t);
        }
    }
    append_table(contracts, contract_rows, contract_memory_type.get(), c_rows.data(), c_rows.rows());
    append_table(events, event_rows, event_memory_type.get(), e_rows.data(), e_rows.rows());
}

void ResultsWriter::Impl::append_table(const h5::Dataset& ds, hsize_t& rows, hid_t memory_type, const void* data,
                                       hsize_t n) {
    if (n == 0) return;
    const hsize_t total = rows + n;
    h5::check(H5Dset_extent(ds.get(), &total), "extend table", ds.get());
    const h5::Dataspace space = h5::own<h5::Dataspace>(H5Dget_space(ds.get()), "get space of", ds.get());
    h5::check(H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, &rows, nullptr, &n, nullptr), "select rows of",
              ds.get());
    const h5::Dataspace memory = h5::make_space(1, &n);
    const h5::PropList transfer =
        h5::conversion_transfer(n, std::max(H5Tget_size(memory_type), table_row_bytes));
    h5::check(H5Dwrite(ds.get(), memory_type, memory.get(), space.get(), transfer.get(), data), "append to",
              ds.get());
    rows = total;
}

void ResultsWriter::Impl::flush_drawn() {
    if (drawn_count == 0) return;
    const std::size_t capacity = static_cast<std::size_t>(replications);
    const hsize_t start[2] = {drawn_point, drawn_first}, count[2] = {1, drawn_count};
    const h5::Dataspace memory = h5::make_space(2, count);
    for (std::size_t i = 0; i < params.size(); ++i) {
        const h5::Dataspace space = h5::own<h5::Dataspace>(H5Dget_space(params[i].get()), "get space of", params[i].get());
        h5::check(H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, start, nullptr, count, nullptr), "select in",
                  params[i].get());
        h5::check(H5Dwrite(params[i].get(), H5T_NATIVE_DOUBLE, memory.get(), space.get(), H5P_DEFAULT,
                           drawn_buffer.data() + i * capacity),
                  "write", params[i].get());
    }
    drawn_count = 0;
}

void ResultsWriter::Impl::close_all() {
    for (auto* family : {&firm, &market, &chip}) family->clear();
    capacity_flow.reset();
    equity.reset();
    params.clear();
    contracts.reset();
    events.reset();
    for (Slab* slab : {&firm_slab, &market_slab, &chip_slab, &network_slab}) *slab = Slab();
}

void ResultsWriter::Impl::finish(bool complete, bool list_written) {
    if (finished) return;
    finished = true;
    const std::size_t expected = written.size();
    const bool is_complete = complete && written_count == expected;
    flush_drawn();
    h5::write_attribute_bool(file.get(), "complete", is_complete);
    // Written only when an interrupted run closes its file on purpose: what `run
    // --resume` may copy. A file cut off by a kill lacks it (its tables may lag
    // its chunks), and so does one closed after a failure (a record may be half written).
    if (!is_complete && list_written && !options.in_memory) {
        const std::string ranges = written_ranges(written);
        if (ranges.size() <= max_written_ranges_text) h5::write_attribute(file.get(), "replications_written", ranges);
    }
    close_all();
    file.close("close results file", partial_path.string());
    if (options.in_memory) return;
    if (complete && !is_complete)
        throw OutputError("results are incomplete: " + std::to_string(written_count) + " of " +
                          std::to_string(expected) + " replications were written; they stay in '" +
                          partial_path.string() + "' with complete=false");
    if (!is_complete) return;
    // Make the data durable before the rename makes the file visible.
    if (const int fd = ::open(partial_path.c_str(), O_RDONLY); fd >= 0) {
        ::fsync(fd);
        ::close(fd);
    }
    std::error_code ec;
    std::filesystem::rename(partial_path, final_path, ec);
    if (ec)
        throw OutputError("cannot rename '" + partial_path.string() + "' to '" + final_path.string() +
                          "': " + ec.message());
}

ResultsWriter::ResultsWriter(std::filesystem::path final_path, const RunLayout& layout, WriterOptions options)
    : impl_(std::make_unique<Impl>(std::move(final_path), layout, options)) {}

ResultsWriter::~ResultsWriter() {
    if (!impl_ || impl_->finished) return;
    try {
        impl_->finish(false, false);
    } catch (...) {
        // A destructor cannot report; the .partial keeps complete=false.
    }
}

void ResultsWriter::encode(ReplicationRecord& record) const {
    impl_->encode(record);
}
void ResultsWriter::write(const ReplicationRecord& record) {
    impl_->write(std::span<const ReplicationRecord>(&record, 1));
}
void ResultsWriter::write_point(std::span<const ReplicationRecord> records) {
    impl_->write(records);
}
void ResultsWriter::finish(bool complete) {
    impl_->finish(complete, true);
}
std::vector<ResultsWriter::ChunkedDataset> ResultsWriter::chunked_datasets() const {
    std::vector<ChunkedDataset> out;
    for (const ChunkPlan& p : impl_->chunk_plan)
        out.push_back(ChunkedDataset{h5::object_name(p.dataset), {p.chunk.begin(), p.chunk.end()}});
    return out;
}
std::uint64_t ResultsWriter::times() const {
    return impl_->times;
}
const std::filesystem::path& ResultsWriter::final_path() const {
    return impl_->final_path;
}
const std::filesystem::path& ResultsWriter::partial_path() const {
    return impl_->partial_path;
}

}  // namespace entangle
