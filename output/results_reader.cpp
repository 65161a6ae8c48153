#include "output/results_reader.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <system_error>

#include "engine/time.hpp"
#include "output/hdf5_handle.hpp"
#include "output/tables.hpp"

namespace entangle {

namespace {

h5::File open_results(const std::filesystem::path& path) {
    h5::init();
    std::error_code ec;
    if (!std::filesystem::exists(path, ec))
        throw OutputError("results file '" + path.string() + "' does not exist");
    if (H5Fis_hdf5(path.c_str()) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        throw OutputError("'" + path.string() + "' is not an entangle results file (not an HDF5 file)");
    }
    const hid_t id = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    if (id < 0) h5::fail_file("cannot open results file", path.string());
    h5::File file(id);
    if (!h5::has_attribute(file.get(), "schema_version"))
        throw OutputError(
            "'" + path.string() +
            "' is an HDF5 file but not an entangle results file (no root attribute schema_version)");
    const std::string version = h5::read_attribute_string(file.get(), "schema_version");
    if (version.rfind("1.", 0) != 0)
        throw OutputError("'" + path.string() + "' has results schema_version " + version +
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

// Every row of a table, in the native struct `Row`, with its strings reclaimed
// after `convert` copied them.
template <typename Row, typename Out, typename Convert>
std::vector<Out> read_table(const std::filesystem::path& path, const char* name, const h5::Datatype& type,
                            Convert convert) {
    const h5::File file = open_results(path);
    const h5::Dataset ds = open_dataset(file.get(), name);
    const hsize_t n = shape_of(ds.get()).at(0);
    std::vector<Out> out;
    if (n == 0) return out;
    std::vector<Row> rows(n);
    h5::check(H5Dread(ds.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, rows.data()), "read", ds.get());
    out.reserve(n);
    for (const Row& r : rows) out.push_back(convert(r));
    const h5::Dataspace space = h5::own<h5::Dataspace>(H5Dget_space(ds.get()), "get space of", ds.get());
    h5::reclaim(type.get(), space.get(), rows.data());
    return out;
}

std::string text(const char* p) {
    return p ? p : "";
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
    std::vector<Column> table;
    std::size_t with_data = 0, replications = 0;
    for (const char* name : columns) {
        Column column{name, std::vector<double>(firms.size(), std::nan(""))};
        const std::string path = std::string("/firm/") + name;
        if (exists(file, path)) {
            const h5::Dataset ds = open_dataset(file, path);
            const std::vector<hsize_t> shape = shape_of(ds.get());  // point, replication, time, firm
            replications = shape.at(1);
            const std::vector<double> block =
                read_doubles(ds.get(), {0, 0, shape[2] - 1, 0}, {1, shape[1], 1, shape[3]});
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

std::vector<ContractTableRow> read_contracts(const std::filesystem::path& path) {
    return read_table<h5::ContractRowC, ContractTableRow>(
        path, "/tables/contracts", h5::contract_type(false), [](const h5::ContractRowC& c) {
            ContractTableRow out;
            out.point = c.point;
            out.replication = c.replication;
            out.row = ContractRow{text(c.id),       text(c.kind),         text(c.seller),
                                  text(c.buyer),    text(c.signed_month), text(c.start),
                                  text(c.end),      c.quantity_h100e,     c.price_usd_per_h100e_hour,
                                  c.value_usd,      c.exclusive != 0,     c.rofr != 0,
                                  c.until_agi != 0, text(c.status),       text(c.end_reason)};
            return out;
        });
}

std::vector<EventTableRow> read_events(const std::filesystem::path& path) {
    return read_table<h5::EventRowC, EventTableRow>(
        path, "/tables/events", h5::event_type(false), [](const h5::EventRowC& e) {
            return EventTableRow{e.point, e.replication,
                                 EventRow{text(e.time), text(e.kind), text(e.firms), text(e.text)}};
        });
}

}  // namespace entangle
