#include "output/results_reader.hpp"

#include <algorithm>
#include <map>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <optional>
#include <sstream>
#include <system_error>

#include "engine/time.hpp"
#include "output/hdf5_handle.hpp"
#include "output/tables.hpp"

namespace entangle {

bool is_hdf5_file(const std::filesystem::path& file) {
    h5::init();
    if (H5Fis_hdf5(file.c_str()) > 0) return true;
    H5Eclear2(H5E_DEFAULT);
    return false;
}

namespace {

h5::File open_results(const std::filesystem::path& path) {
    h5::init();
    std::error_code ec;
    if (!std::filesystem::exists(path, ec))
        throw NotResultsFile("results file '" + path.string() + "' does not exist");
    if (!is_hdf5_file(path))
        throw NotResultsFile("'" + path.string() + "' is not an entangle results file (not an HDF5 file)");
    const hid_t id = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    if (id < 0) h5::fail_input_file("cannot open results file", path.string());
    h5::File file(id);
    if (!h5::has_attribute(file.get(), "schema_version"))
        throw NotResultsFile(
            "'" + path.string() +
            "' is an HDF5 file but not an entangle results file (no root attribute schema_version)");
    const std::string version = h5::read_attribute_string(file.get(), "schema_version");
    if (version.rfind("1.", 0) != 0)
        throw NotResultsFile("'" + path.string() + "' has results schema_version " + version +
                          "; this entangle reads 1.x");
    return file;
}

h5::Dataset open_dataset(hid_t file, const std::string& name) {
    return h5::own<h5::Dataset>(H5Dopen2(file, name.c_str(), H5P_DEFAULT), "open dataset", file, name);
}

h5::Object open_object(hid_t file, const std::string& name) {
    return h5::own<h5::Object>(H5Oopen(file, name.c_str(), H5P_DEFAULT), "open", file, name);
}

bool exists(hid_t loc, const std::string& path) {
    // H5Lexists wants each parent to exist: walk the path.
    std::string prefix;
    std::size_t from = path.front() == '/' ? 1 : 0;
    while (from <= path.size()) {
        const std::size_t slash = std::min(path.find('/', from), path.size());
        prefix = path.substr(0, slash);
        if (H5Lexists(loc, prefix.c_str(), H5P_DEFAULT) <= 0) {
            H5Eclear2(H5E_DEFAULT);
            return false;
        }
        from = slash + 1;
    }
    return true;
}

std::vector<hsize_t> shape_of(hid_t ds) {
    const h5::Dataspace space = h5::own<h5::Dataspace>(H5Dget_space(ds), "get space of", ds);
    const int rank = h5::check(H5Sget_simple_extent_ndims(space.get()), "get rank of", ds);
    std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
    h5::check(H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr), "get shape of", ds);
    return dims;
}

std::string base_name(const std::string& path) {
    return path.substr(path.rfind('/') + 1);
}

std::vector<std::string> dims_of(hid_t ds) {
    const std::size_t rank = shape_of(ds).size();
    if (h5::check(H5DSis_scale(ds), "look up scale", ds) > 0) return {base_name(h5::object_name(ds))};
    std::vector<std::string> dims(rank);
    for (std::size_t axis = 0; axis < rank; ++axis) {
        const int n = H5DSget_num_scales(ds, static_cast<unsigned>(axis));
        if (n <= 0) {
            H5Eclear2(H5E_DEFAULT);
            continue;
        }
        int index = n - 1;  // like h5netcdf and netCDF-C: the last scale attached
        h5::check(H5DSiterate_scales(
                      ds, static_cast<unsigned>(axis), &index,
                      [](hid_t, unsigned, hid_t scale, void* data) -> herr_t {
                          *static_cast<std::string*>(data) = base_name(h5::object_name(scale));
                          return 1;
                      },
                      &dims[axis]),
                  "read dimension scales of", ds);
    }
    return dims;
}

std::vector<double> read_doubles(hid_t ds, const std::vector<hsize_t>& start,
                                 const std::vector<hsize_t>& count) {
    hsize_t n = 1;
    for (const hsize_t c : count) n *= c;
    std::vector<double> values(n);
    if (n == 0) return values;
    const h5::Dataspace file_space = h5::own<h5::Dataspace>(H5Dget_space(ds), "get space of", ds);
    h5::check(
        H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr),
        "select in", ds);
    const h5::Dataspace memory = h5::make_space(1, &n);
    h5::check(H5Dread(ds, H5T_NATIVE_DOUBLE, memory.get(), file_space.get(), H5P_DEFAULT, values.data()),
              "read", ds);
    return values;
}

std::vector<double> read_all(hid_t ds) {
    const std::vector<hsize_t> shape = shape_of(ds);
    return read_doubles(ds, std::vector<hsize_t>(shape.size(), 0), shape);
}

std::vector<std::string> read_strings(hid_t ds) {
    const std::vector<hsize_t> shape = shape_of(ds);
    hsize_t n = 1;
    for (const hsize_t d : shape) n *= d;
    std::vector<std::string> out;
    if (n == 0) return out;
    const h5::Datatype type = h5::own<h5::Datatype>(H5Dget_type(ds), "get type of", ds);
    if (H5Tget_class(type.get()) != H5T_STRING)
        throw OutputError("dataset '" + h5::object_name(ds) + "' in '" + h5::file_name(ds) + "' is not text");
    if (h5::check(H5Tis_variable_str(type.get()), "get type of", ds) > 0) {
        const h5::Datatype memory = h5::string_type();
        std::vector<char*> pointers(n, nullptr);
        h5::check(H5Dread(ds, memory.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, pointers.data()), "read", ds);
        for (char* p : pointers) out.emplace_back(p ? p : "");
        const h5::Dataspace space = h5::own<h5::Dataspace>(H5Dget_space(ds), "get space of", ds);
        h5::reclaim(memory.get(), space.get(), pointers.data());
        return out;
    }
    const std::size_t width = H5Tget_size(type.get());
    std::vector<char> buffer(width * n);
    h5::check(H5Dread(ds, type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer.data()), "read", ds);
    for (hsize_t i = 0; i < n; ++i) {
        const char* p = buffer.data() + i * width;
        out.emplace_back(p, strnlen(p, width));
    }
    return out;
}

// Names of a group's links in creation order (name order for files without it).
std::vector<std::string> link_names(hid_t group) {
    H5G_info_t info{};
    h5::check(H5Gget_info(group, &info), "list", group);
    std::vector<std::string> names;
    for (const H5_index_t index : {H5_INDEX_CRT_ORDER, H5_INDEX_NAME}) {
        names.clear();
        for (hsize_t i = 0; i < info.nlinks; ++i) {
            const ssize_t n = H5Lget_name_by_idx(group, ".", index, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
            if (n < 0) break;
            std::string name(static_cast<std::size_t>(n), '\0');
            H5Lget_name_by_idx(group, ".", index, H5_ITER_INC, i, name.data(), name.size() + 1, H5P_DEFAULT);
            names.push_back(std::move(name));
        }
        H5Eclear2(H5E_DEFAULT);
        if (names.size() == info.nlinks) break;
    }
    return names;
}

std::string month_of_days(double days) {
    const auto target = static_cast<std::int64_t>(std::llround(days));
    const int year = 1970 + static_cast<int>(std::floor(days / 365.2425));
    for (Month m = Month::from_year_month(year - 1, 1); m <= Month::from_year_month(year + 1, 12); m = m + 1)
        if (days_since_epoch(m) == target) return format_month(m);
    return "day " + std::to_string(target);
}

std::string number(double v) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.4g", v);
    return buffer;
}

std::string shape_text(const std::vector<hsize_t>& shape) {
    std::string s;
    for (const hsize_t d : shape) s += (s.empty() ? "" : " x ") + std::to_string(d);
    return s.empty() ? "scalar" : s;
}

void describe_group(std::ostringstream& out, hid_t file, const std::string& group) {
    const h5::Group g =
        h5::own<h5::Group>(H5Gopen2(file, group.c_str(), H5P_DEFAULT), "open group", file, group);
    std::string coords;
    std::vector<std::string> lines;
    std::size_t width = 0;
    for (const std::string& name : link_names(g.get())) {
        const h5::Object obj =
            h5::own<h5::Object>(H5Oopen(g.get(), name.c_str(), H5P_DEFAULT), "open", g.get(), name);
        if (H5Iget_type(obj.get()) != H5I_DATASET) continue;
        const std::vector<hsize_t> shape = shape_of(obj.get());
        if (h5::check(H5DSis_scale(obj.get()), "look up scale", obj.get()) > 0) {
            coords += " " + name + "(" + std::to_string(shape.empty() ? 1 : shape[0]) + ")";
            continue;
        }
        width = std::max(width, name.size());
    }
    for (const std::string& name : link_names(g.get())) {
        const h5::Object obj =
            h5::own<h5::Object>(H5Oopen(g.get(), name.c_str(), H5P_DEFAULT), "open", g.get(), name);
        if (H5Iget_type(obj.get()) != H5I_DATASET ||
            h5::check(H5DSis_scale(obj.get()), "look up scale", obj.get()) > 0)
            continue;
        const std::vector<hsize_t> shape = shape_of(obj.get());
        std::string line = "  " + name + std::string(width - name.size() + 2, ' ');
        if (group == "/tables") {
            line += std::to_string(shape.at(0)) + " rows";
        } else {
            std::string dims;
            for (const std::string& d : dims_of(obj.get())) dims += (dims.empty() ? "" : ", ") + d;
            line += "(" + dims + ") " + shape_text(shape);
            if (h5::has_attribute(obj.get(), "units")) {
                const std::string units = h5::read_attribute_string(obj.get(), "units");
                if (!units.empty()) line += "  [" + units + "]";
            }
        }
        lines.push_back(line);
    }
    out << group << (coords.empty() ? "" : "   coordinates:" + coords) << '\n';
    for (const std::string& line : lines) out << line << '\n';
}

void describe_firms(std::ostringstream& out, hid_t file) {
    static const char* const columns[] = {"cash",         "revenue",   "compute",        "capability",
                                          "market_share", "valuation", "power_online_mw"};
    const std::vector<std::string> firms = read_strings(open_dataset(file, "/coords/firm").get());
    const std::vector<std::string> points = read_strings(open_dataset(file, "/coords/point").get());
    const std::vector<double> times = read_all(open_dataset(file, "/coords/time").get());
    if (firms.empty() || points.empty() || times.empty()) return;

    struct Column {
        std::string name;
        std::vector<double> mean;  // per firm, over the replications with data
    };
    // A sweep that kept statistics: show the statistic "mean", not a mean over statistics.
    std::optional<hsize_t> mean_statistic;
    const bool statistics = exists(file, "/coords/statistic");
    if (statistics) {
        const std::vector<std::string> names = read_strings(open_dataset(file, "/coords/statistic").get());
        const auto at = std::find(names.begin(), names.end(), "mean");
        if (at == names.end()) return;
        mean_statistic = static_cast<hsize_t>(at - names.begin());
    }
    std::vector<Column> table;
    std::size_t with_data = 0, replications = 0;
    for (const char* name : columns) {
        Column column{name, std::vector<double>(firms.size(), std::nan(""))};
        const std::string path = std::string("/firm/") + name;
        if (exists(file, path)) {
            const h5::Dataset ds = open_dataset(file, path);
            std::vector<hsize_t> shape = shape_of(ds.get());  // point, replication or statistic, time, firm
            if (mean_statistic) shape[1] = 1;
            replications = shape.at(1);
            const std::vector<double> block = read_doubles(ds.get(), {0, mean_statistic.value_or(0), shape[2] - 1, 0},
                                                           {1, shape[1], 1, shape[3]});
            std::size_t rows_with_data = 0;
            for (std::size_t f = 0; f < firms.size(); ++f) {
                double sum = 0;
                std::size_t n = 0;
                for (std::size_t r = 0; r < shape[1]; ++r) {
                    const double v = block[r * shape[3] + f];
                    if (std::isnan(v)) continue;
                    sum += v;
                    ++n;
                }
                if (n > 0) column.mean[f] = sum / static_cast<double>(n);
                rows_with_data = std::max(rows_with_data, n);
            }
            with_data = std::max(with_data, rows_with_data);
        }
        table.push_back(std::move(column));
    }
    if (statistics)
        out << "\nFirms at " << month_of_days(times.back()) << ", point '" << points[0]
            << "', statistic 'mean' over the point's replications (-: no data):\n";
    else
        out << "\nFirms at " << month_of_days(times.back()) << ", point '" << points[0] << "', mean over "
            << with_data << " of " << replications << " replications (-: no data):\n";
    std::size_t firm_width = 4;
    for (const std::string& f : firms) firm_width = std::max(firm_width, f.size());
    auto cell = [](const std::string& s, std::size_t w) {
        return std::string(w > s.size() ? w - s.size() : 0, ' ') + s;
    };
    out << "  firm" << std::string(firm_width - 4, ' ');
    for (const Column& c : table) out << "  " << cell(c.name, std::max<std::size_t>(c.name.size(), 10));
    out << '\n';
    for (std::size_t f = 0; f < firms.size(); ++f) {
        out << "  " << firms[f] << std::string(firm_width - firms[f].size(), ' ');
        for (const Column& c : table)
            out << "  "
                << cell(std::isnan(c.mean[f]) ? "-" : number(c.mean[f]),
                        std::max<std::size_t>(c.name.size(), 10));
        out << '\n';
    }
}

}  // namespace

std::string describe_results(const std::filesystem::path& path) {
    const h5::File file = open_results(path);
    const hid_t root = file.get();
    std::ostringstream out;
    out << "entangle results file " << path.string() << '\n';
    for (const char* name :
         {"schema_version", "entangle_version", "hdf5_version", "command", "seed", "created", "complete"}) {
        if (!h5::has_attribute(root, name)) continue;
        std::string value;
        if (std::string_view(name) == "seed") {
            value = std::to_string(h5::read_attribute_uint(root, name));
        } else if (std::string_view(name) == "complete") {
            value = h5::read_attribute_uint(root, name) ? "true" : "false (interrupted or still running)";
        } else {
            value = h5::read_attribute_string(root, name);
        }
        out << "  " << name << std::string(18 - std::string_view(name).size(), ' ') << value << '\n';
    }
    for (const char* name : {"scenario_yaml", "sweep_yaml"})
        if (h5::has_attribute(root, name))
            out << "  " << name << std::string(18 - std::string_view(name).size(), ' ')
                << h5::read_attribute_string(root, name).size() << " characters\n";
    out << '\n';
    for (const char* group : {"/coords", "/params", "/firm", "/market", "/chip", "/network", "/tables"})
        if (exists(root, group)) describe_group(out, root, group);
    if (exists(root, "/coords/firm") && exists(root, "/coords/point") && exists(root, "/coords/time"))
        describe_firms(out, root);
    return out.str();
}

std::vector<double> read_dataset_double(const std::filesystem::path& path, const std::string& dataset) {
    const h5::File file = open_results(path);
    return read_all(open_dataset(file.get(), dataset).get());
}

std::vector<std::string> read_dataset_strings(const std::filesystem::path& path, const std::string& dataset) {
    const h5::File file = open_results(path);
    return read_strings(open_dataset(file.get(), dataset).get());
}

std::vector<std::uint64_t> read_shape(const std::filesystem::path& path, const std::string& dataset) {
    const h5::File file = open_results(path);
    const std::vector<hsize_t> shape = shape_of(open_dataset(file.get(), dataset).get());
    return {shape.begin(), shape.end()};
}

std::vector<std::string> read_dims(const std::filesystem::path& path, const std::string& dataset) {
    const h5::File file = open_results(path);
    return dims_of(open_dataset(file.get(), dataset).get());
}

std::string read_attribute_string(const std::filesystem::path& path, const std::string& object,
                                  const std::string& name) {
    const h5::File file = open_results(path);
    return h5::read_attribute_string(open_object(file.get(), object).get(), name.c_str());
}

std::uint64_t read_attribute_uint(const std::filesystem::path& path, const std::string& object,
                                  const std::string& name) {
    const h5::File file = open_results(path);
    return h5::read_attribute_uint(open_object(file.get(), object).get(), name.c_str());
}

std::string read_root_attribute_string(const std::filesystem::path& path, const std::string& name) {
    return read_attribute_string(path, "/", name);
}

namespace {

ContractTableRow contract_of(h5::RowUnpacker& c) {
    ContractTableRow out;
    out.point = c.u32();
    out.replication = c.u32();
    ContractRow& row = out.row;
    for (std::string* t : {&row.id, &row.kind, &row.seller, &row.buyer, &row.signed_month, &row.start, &row.end})
        *t = c.text();
    row.quantity_h100e = c.f64();
    row.price_usd_per_h100e_hour = c.f64();
    row.value_usd = c.f64();
    row.exclusive = c.flag();
    row.rofr = c.flag();
    row.until_agi = c.flag();
    row.status = c.text();
    row.end_reason = c.text();
    return out;
}

EventTableRow event_of(h5::RowUnpacker& e) {
    EventTableRow out;
    out.point = e.u32();
    out.replication = e.u32();
    for (std::string* t : {&out.row.time, &out.row.kind, &out.row.firms, &out.row.text}) *t = e.text();
    return out;
}

// Rows [begin, begin + count) of a table, read in the format it was stored
// with (fixed- or variable-length text), the variable-length strings freed
// once `convert` copied them.
template <typename Out, typename Convert>
std::vector<Out> read_rows(hid_t ds, const h5::TableFormat& format, hsize_t begin, hsize_t count, Convert convert) {
    std::vector<Out> out;
    if (count == 0) return out;
    std::vector<unsigned char> rows(count * format.row_bytes());
    const h5::Datatype type = format.memory_type();
    const h5::Dataspace space = h5::own<h5::Dataspace>(H5Dget_space(ds), "get space of", ds);
    h5::check(H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, &begin, nullptr, &count, nullptr), "select rows of", ds);
    const h5::Dataspace memory = h5::make_space(1, &count);
    h5::check(H5Dread(ds, type.get(), memory.get(), space.get(), H5P_DEFAULT, rows.data()), "read", ds);
    out.reserve(count);
    h5::RowUnpacker unpack(format, rows.data());
    for (hsize_t i = 0; i < count; ++i) {
        unpack.begin_row(i);
        out.push_back(convert(unpack));
    }
    if (format.has_variable_text()) h5::reclaim(type.get(), memory.get(), rows.data());
    return out;
}

}  // namespace

std::vector<ContractTableRow> read_contracts(const std::filesystem::path& path) {
    const h5::File file = open_results(path);
    const h5::Dataset ds = open_dataset(file.get(), "/tables/contracts");
    return read_rows<ContractTableRow>(ds.get(), h5::TableFormat::contracts_of(ds.get()), 0, shape_of(ds.get()).at(0),
                                       contract_of);
}

TableTextBounds read_table_text_bounds(const std::filesystem::path& path) {
    const h5::File file = open_results(path);
    const h5::Dataset contracts = open_dataset(file.get(), "/tables/contracts");
    const h5::Dataset events = open_dataset(file.get(), "/tables/events");
    const h5::TableFormat c = h5::TableFormat::contracts_of(contracts.get());
    const h5::TableFormat e = h5::TableFormat::events_of(events.get());
    auto width = [](const h5::TableFormat& f, std::string_view name) {
        for (const h5::TableFormat::Column& col : f.columns())
            if (col.name == name) return static_cast<std::uint32_t>(col.width);
        return std::uint32_t{0};
    };
    // Columns that share a bound were written with one width; 0 if any is variable-length.
    auto shared = [](std::initializer_list<std::uint32_t> widths) {
        const auto [lo, hi] = std::minmax(widths);
        return lo == 0 ? 0 : hi;
    };
    TableTextBounds b;
    b.contract_id = width(c, "id");
    b.contract_kind = width(c, "kind");
    b.firm = shared({width(c, "seller"), width(c, "buyer")});
    b.month = shared({width(c, "signed"), width(c, "start"), width(c, "end"), width(e, "time")});
    b.status = width(c, "status");
    b.end_reason = width(c, "end_reason");
    b.event_kind = width(e, "kind");
    b.event_firms = width(e, "firms");
    return b;
}

std::vector<EventTableRow> read_events(const std::filesystem::path& path) {
    const h5::File file = open_results(path);
    const h5::Dataset ds = open_dataset(file.get(), "/tables/events");
    return read_rows<EventTableRow>(ds.get(), h5::TableFormat::events_of(ds.get()), 0, shape_of(ds.get()).at(0),
                                    event_of);
}

namespace {

// Month of a CF time value (days since 1970-01-01 of the month's first day).
Month month_from_days(double days) {
    const auto target = static_cast<std::int64_t>(std::llround(days));
    const int year = 1970 + static_cast<int>(std::floor(days / 365.2425));
    for (Month m = Month::from_year_month(year - 1, 1); m <= Month::from_year_month(year + 1, 12); m = m + 1)
        if (days_since_epoch(m) == target) return m;
    throw OutputError("time value " + std::to_string(days) + " is not the first day of a month");
}

bool is_scale(hid_t ds) { return h5::check(H5DSis_scale(ds), "look up scale", ds) > 0; }

// The variables of a group (not its scales), in creation order.
std::vector<std::string> variables(hid_t file, const std::string& group) {
    std::vector<std::string> out;
    if (!exists(file, group)) return out;
    const h5::Group g = h5::own<h5::Group>(H5Gopen2(file, group.c_str(), H5P_DEFAULT), "open group", file, group);
    for (const std::string& name : link_names(g.get())) {
        const h5::Object obj = h5::own<h5::Object>(H5Oopen(g.get(), name.c_str(), H5P_DEFAULT), "open", g.get(), name);
        if (H5Iget_type(obj.get()) == H5I_DATASET && !is_scale(obj.get())) out.push_back(name);
    }
    return out;
}

}  // namespace

RunLayout read_layout(const std::filesystem::path& path) {
    const h5::File file = open_results(path);
    const hid_t root = file.get();
    RunLayout layout;
    layout.command = h5::read_attribute_string(root, "command");
    layout.seed = h5::read_attribute_uint(root, "seed");
    layout.scenario_yaml = h5::read_attribute_string(root, "scenario_yaml");
    if (h5::has_attribute(root, "sweep_yaml")) layout.sweep_yaml = h5::read_attribute_string(root, "sweep_yaml");
    for (const char* name : {"sweep_identity", "shard", "sweep_points", "replications"})
        if (h5::has_attribute(root, name)) layout.extra_attributes.emplace_back(name, h5::read_attribute_string(root, name));
    const auto strings = [&](const char* ds) { return read_strings(open_dataset(root, ds).get()); };
    layout.point_labels = strings("/coords/point");
    layout.firm_names = strings("/coords/firm");
    layout.firm_roles = strings("/coords/firm_roles");
    layout.chip_names = strings("/coords/chip");
    layout.region_names = strings("/coords/region");
    for (const double d : read_all(open_dataset(root, "/coords/time").get())) layout.times.push_back(month_from_days(d));
    if (exists(root, "/coords/statistic")) {
        layout.statistics = strings("/coords/statistic");
        layout.replications = h5::has_attribute(root, "replications")
                                  ? std::stoi(h5::read_attribute_string(root, "replications"))
                                  : 1;  // the writer uses the statistics instead
    } else {
        layout.replications = static_cast<int>(shape_of(open_dataset(root, "/coords/replication").get()).at(0));
    }
    layout.firm_series = variables(root, "/firm");
    layout.market_series = variables(root, "/market");
    layout.chip_series = variables(root, "/chip");
    layout.network = exists(root, "/network/capacity_flow");
    for (const std::string& name : variables(root, "/params")) {
        const h5::Dataset ds = open_dataset(root, "/params/" + name);
        const std::string key = h5::read_attribute_string(ds.get(), "key_path");
        const std::string role = h5::has_attribute(ds.get(), "role") ? h5::read_attribute_string(ds.get(), "role") : "drawn";
        if (role != "swept") {
            layout.drawn_param_names.push_back(key);
            continue;
        }
        RunLayout::SweptParam sp;
        sp.key_path = key;
        const h5::Datatype type = h5::own<h5::Datatype>(H5Dget_type(ds.get()), "get type of", ds.get());
        if (H5Tget_class(type.get()) == H5T_STRING) {
            sp.type = RunLayout::SweptParam::Type::text;
            for (const std::string& v : read_strings(ds.get())) {
                auto at = std::find(sp.labels.begin(), sp.labels.end(), v);
                if (at == sp.labels.end()) at = sp.labels.insert(sp.labels.end(), v);
                sp.values.push_back(static_cast<double>(at - sp.labels.begin()));
            }
        } else {
            if (H5Tget_class(type.get()) == H5T_ENUM) sp.type = RunLayout::SweptParam::Type::boolean;
            sp.values = read_all(ds.get());
        }
        layout.swept_params.push_back(std::move(sp));
    }
    return layout;
}

namespace {
// A table of which only where each record's rows are is held; rows are read
// when asked for. Each record's rows are one block,
// appended together by ResultsWriter::write (a sweep's file holds them in
// order; a run's holds them in the order they were written).
struct StoredTable {
    using Key = std::pair<std::uint32_t, std::uint32_t>;
    struct Block {
        Key key;
        hsize_t begin = 0, count = 0;
        bool operator<(const Block& other) const { return key < other.key; }
    };
    h5::Dataset ds;
    std::optional<h5::TableFormat> format;  // as stored
    hsize_t rows = 0;
    std::vector<Block> blocks;              // sorted by key
    Block find(Key key) const {
        const auto at = std::lower_bound(blocks.begin(), blocks.end(), Block{key, 0, 0});
        return at != blocks.end() && at->key == key ? *at : Block{key, 0, 0};
    }
};
}  // namespace

struct StoredRecordReader::Impl {
    std::filesystem::path path;
    h5::File file;
    std::vector<ChunkedDataset> datasets;
    std::vector<h5::Dataset> handles;
    std::vector<h5::Dataset> drawn;
    std::uint64_t times = 0;
    StoredTable contracts, events;
    // Rows read ahead: records are read in the order they are stored (merge and
    // resume copy in point and replication order), and one H5Dread of a few
    // thousand rows costs little more than one of a record's hundred.
    std::vector<ContractTableRow> contract_rows;
    std::vector<EventTableRow> event_rows;
    hsize_t contract_rows_begin = 0, event_rows_begin = 0;
};

namespace {

StoredTable open_table(hid_t file, const char* name) {
    StoredTable t;
    t.ds = open_dataset(file, name);
    t.format = std::string_view(name) == "/tables/contracts" ? h5::TableFormat::contracts_of(t.ds.get())
                                                             : h5::TableFormat::events_of(t.ds.get());
    const hsize_t n = shape_of(t.ds.get()).at(0);
    t.rows = n;
    using Key = std::pair<std::uint32_t, std::uint32_t>;
    struct KeyC {
        std::uint32_t point, replication;
    };
    const h5::Datatype type = h5::own<h5::Datatype>(H5Tcreate(H5T_COMPOUND, sizeof(KeyC)), "create type", file);
    h5::check(H5Tinsert(type.get(), "point", HOFFSET(KeyC, point), H5T_NATIVE_UINT32), "build type", file);
    h5::check(H5Tinsert(type.get(), "replication", HOFFSET(KeyC, replication), H5T_NATIVE_UINT32), "build type", file);
    std::vector<KeyC> keys(n);
    if (n > 0)
        h5::check(H5Dread(t.ds.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, keys.data()), "read", t.ds.get());
    for (hsize_t row = 0; row < n; ++row) {
        const Key key{keys[row].point, keys[row].replication};
        if (!t.blocks.empty() && t.blocks.back().key == key)
            ++t.blocks.back().count;
        else
            t.blocks.push_back(StoredTable::Block{key, row, 1});
    }
    std::sort(t.blocks.begin(), t.blocks.end());
    if (std::adjacent_find(t.blocks.begin(), t.blocks.end(), [](const auto& a, const auto& b) { return a.key == b.key; }) !=
        t.blocks.end())
        throw OutputError("'" + h5::file_name(file) + "': " + name +
                          " holds the rows of one replication in two places (not written by entangle?)");
    return t;
}

}  // namespace

namespace {

// The rows of one record's block, from `cache` (rows from `cache_begin` on),
// refilled with the block and the rows after it when the block is not in it.
template <typename Row, typename Convert>
std::vector<Row> block_rows(const StoredTable& table, const StoredTable::Block& block, std::vector<Row>& cache,
                            hsize_t& cache_begin, Convert convert) {
    constexpr hsize_t read_ahead_rows = 4096;
    if (block.count == 0) return {};
    if (block.begin < cache_begin || block.begin + block.count > cache_begin + cache.size()) {
        const hsize_t count = std::max(block.count, std::min(read_ahead_rows, table.rows - block.begin));
        cache = read_rows<Row>(table.ds.get(), *table.format, block.begin, count, convert);
        cache_begin = block.begin;
    }
    const auto first = cache.begin() + static_cast<std::ptrdiff_t>(block.begin - cache_begin);
    return std::vector<Row>(first, first + static_cast<std::ptrdiff_t>(block.count));
}

}  // namespace

StoredRecordReader::StoredRecordReader(const std::filesystem::path& path, std::vector<ChunkedDataset> datasets,
                                       std::uint64_t times)
    : impl_(std::make_unique<Impl>()) {
    impl_->path = path;
    impl_->file = open_results(path);
    impl_->times = times;
    for (const ChunkedDataset& d : datasets) impl_->handles.push_back(open_dataset(impl_->file.get(), d.path));
    impl_->datasets = std::move(datasets);
    for (const std::string& name : variables(impl_->file.get(), "/params")) {
        h5::Dataset ds = open_dataset(impl_->file.get(), "/params/" + name);
        const bool swept = h5::has_attribute(ds.get(), "role") && h5::read_attribute_string(ds.get(), "role") == "swept";
        if (!swept) impl_->drawn.push_back(std::move(ds));
    }
    impl_->contracts = open_table(impl_->file.get(), "/tables/contracts");
    impl_->events = open_table(impl_->file.get(), "/tables/events");
}

StoredRecordReader::~StoredRecordReader() = default;
StoredRecordReader::StoredRecordReader(StoredRecordReader&&) noexcept = default;

ReplicationRecord StoredRecordReader::read(std::uint32_t point, std::uint32_t replication) {
    Impl& m = *impl_;
    ReplicationRecord r;
    r.point = point;
    r.replication = replication;
    for (std::size_t i = 0; i < m.datasets.size(); ++i) {
        const hid_t ds = m.handles[i].get();
        const std::vector<hsize_t> chunk(m.datasets[i].chunk.begin(), m.datasets[i].chunk.end());
        if (chunk.size() < 3) throw OutputError("internal error: " + m.datasets[i].path + " is not chunked by record");
        const h5::PropList dcpl = h5::own<h5::PropList>(H5Dget_create_plist(ds), "get creation properties of", ds);
        std::vector<hsize_t> stored(chunk.size());
        if (H5Pget_layout(dcpl.get()) != H5D_CHUNKED ||
            H5Pget_chunk(dcpl.get(), static_cast<int>(stored.size()), stored.data()) != static_cast<int>(stored.size()) ||
            stored != chunk)
            throw OutputError("'" + m.path.string() + "': " + m.datasets[i].path +
                              " is chunked differently from the merged file's layout");
        std::vector<hsize_t> offset(chunk.size(), 0);
        offset[0] = point;
        offset[1] = replication;
        for (hsize_t t = 0; t < m.times; t += chunk[2]) {
            offset[2] = t;
            hsize_t bytes = 0;
            if (H5Dget_chunk_storage_size(ds, offset.data(), &bytes) < 0 || bytes == 0) {
                H5Eclear2(H5E_DEFAULT);
                throw OutputError("'" + m.path.string() + "': " + m.datasets[i].path + " has no data for point " +
                                  std::to_string(point) + ", replication " + std::to_string(replication) +
                                  " (an incomplete file?)");
            }
            std::vector<unsigned char> buffer(bytes);
            std::uint32_t mask = 0;
            h5::check(H5Dread_chunk(ds, H5P_DEFAULT, offset.data(), &mask, buffer.data()), "read chunk of", ds);
            if (mask != 0)
                throw OutputError("'" + m.path.string() + "': a chunk of " + m.datasets[i].path +
                                  " was stored with filters skipped; cannot copy it");
            r.encoded.push_back(std::move(buffer));
        }
    }
    for (const h5::Dataset& d : m.drawn) {
        const std::vector<double> v = read_doubles(d.get(), {point, replication}, {1, 1});
        r.drawn.push_back(v.at(0));
    }
    const StoredTable::Key key{point, replication};
    for (ContractTableRow& row :
         block_rows(m.contracts, m.contracts.find(key), m.contract_rows, m.contract_rows_begin, contract_of))
        r.contracts.push_back(std::move(row.row));
    for (EventTableRow& row : block_rows(m.events, m.events.find(key), m.event_rows, m.event_rows_begin, event_of))
        r.events.push_back(std::move(row.row));
    return r;
}

std::vector<double> StoredRecordReader::values_at(const std::string& dataset, std::uint32_t point, std::uint64_t time,
                                                  std::uint32_t replications) {
    const h5::Dataset ds = open_dataset(impl_->file.get(), dataset);
    const std::vector<hsize_t> shape = shape_of(ds.get());
    if (shape.size() < 3) throw OutputError("'" + impl_->path.string() + "': " + dataset + " is not a series over time");
    std::vector<hsize_t> start(shape.size(), 0), count = shape;
    start[0] = point;
    start[2] = time;
    count[0] = count[2] = 1;
    count[1] = std::min<hsize_t>(count[1], replications);
    return read_doubles(ds.get(), start, count);
}

bool is_results_file(const std::filesystem::path& file) {
    try {
        (void)open_results(file);
        return true;
    } catch (const OutputError&) {
        return false;
    }
}

std::optional<std::vector<bool>> read_written_replications(const std::filesystem::path& file) {
    const h5::File f = open_results(file);
    if (!h5::has_attribute(f.get(), "replications_written")) return std::nullopt;
    const std::string text = h5::read_attribute_string(f.get(), "replications_written");
    const std::vector<hsize_t> shape = shape_of(open_dataset(f.get(), "/coords/point").get());
    const std::vector<hsize_t> replications = shape_of(open_dataset(f.get(), "/coords/replication").get());
    std::vector<bool> written(static_cast<std::size_t>(shape.at(0) * replications.at(0)), false);
    const auto bad = [&] { return NotResultsFile("'" + file.string() + "': replications_written '" + text.substr(0, 80) + "' is not a list of ranges of its records"); };
    const auto number = [&](std::size_t& at) {
        std::size_t end = at;
        while (end < text.size() && text[end] >= '0' && text[end] <= '9') ++end;
        if (end == at || end - at > 18) throw bad();
        const unsigned long long value = std::stoull(text.substr(at, end - at));
        at = end;
        return value;
    };
    std::size_t at = 0;
    while (at < text.size()) {
        const unsigned long long first = number(at);
        unsigned long long last = first;
        if (at < text.size() && text[at] == '-') last = number(++at);
        if (last < first || last >= written.size()) throw bad();
        for (unsigned long long i = first; i <= last; ++i) written[i] = true;
        if (at < text.size() && text[at++] != ',') throw bad();
    }
    return written;
}

}  // namespace entangle
