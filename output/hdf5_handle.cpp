#include "output/hdf5_handle.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <optional>
#include <vector>

#include "output/deflate.hpp"

namespace entangle::h5 {

namespace {

// HDF5's deflate filter (H5Z_FILTER_DEFLATE: zlib streams, the same format in
// the file) with libdeflate instead of zlib: compressing the chunks HDF5
// compresses itself, /tables', takes 47% fewer instructions (it was 5.6% of a
// sweep keeping every replication; benchmarks/README.md, "Sweep writing,
// session 5"). HDF5 calls it inside its own calls, which output/ makes one
// thread at a time. Returns 0 (HDF5's "failed") rather than throwing through C.
std::size_t libdeflate_filter(unsigned flags, std::size_t cd_nelmts, const unsigned cd_values[], std::size_t nbytes,
                              std::size_t* buf_size, void** buf) {
    try {
        const auto* in = static_cast<const unsigned char*>(*buf);
        if (flags & H5Z_FLAG_REVERSE) {
            // The chunk's size is not passed: start at 4x and double (HDF5's own filter grows it too).
            for (std::size_t capacity = std::max<std::size_t>(4 * nbytes, 4096);; capacity *= 2) {
                void* out = H5allocate_memory(capacity, false);
                if (!out) return 0;
                std::optional<std::size_t> size;
                try {
                    size = zlib_decompress(in, nbytes, static_cast<unsigned char*>(out), capacity);
                } catch (...) {  // a damaged chunk
                    H5free_memory(out);
                    throw;
                }
                if (!size) {
                    H5free_memory(out);
                    continue;
                }
                H5free_memory(*buf);
                *buf = out;
                *buf_size = capacity;
                return *size;
            }
        }
        if (cd_nelmts != 1 || cd_values[0] > 9) return 0;  // as HDF5's: one value, the level
        const int level = static_cast<int>(cd_values[0]);
        const std::size_t capacity = zlib_compress_bound(nbytes, level);
        void* out = H5allocate_memory(capacity, false);
        if (!out) return 0;
        std::size_t size = 0;
        try {
            size = zlib_compress(in, nbytes, level, static_cast<unsigned char*>(out), capacity);
        } catch (...) {
            H5free_memory(out);
            throw;
        }
        H5free_memory(*buf);
        *buf = out;
        *buf_size = capacity;
        return size;
    } catch (...) {
        return 0;
    }
}

}  // namespace

void init() {
    static std::once_flag once;
    std::call_once(once, [] {
        H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
        // libdeflate in place of the library's deflate filter, for this
        // process only (files keep the same format; reading uses it too).
        // The public H5Zregister refuses ids below 256 ("unable to modify
        // predefined filters"); H5Z_register, which it calls, replaces a
        // registered id and is exported by HDF5's shared library with this
        // signature from 1.8 to 1.14. Looked up at run time: where it is
        // missing (a static HDF5) or the version is another, HDF5 keeps zlib.
        static const H5Z_class2_t deflate{H5Z_CLASS_T_VERS, H5Z_FILTER_DEFLATE, 1, 1, "deflate (libdeflate)",
                                          nullptr,          nullptr,            libdeflate_filter};
        unsigned major = 0, minor = 0, release = 0;
        H5get_libversion(&major, &minor, &release);
        using Register = herr_t (*)(const H5Z_class2_t*);
        const auto internal_register = reinterpret_cast<Register>(::dlsym(RTLD_DEFAULT, "H5Z_register"));
        if (internal_register && major == 1 && minor >= 8 && minor <= 14 && internal_register(&deflate) < 0)
            H5Eclear2(H5E_DEFAULT);  // still zlib: slower, the same files
    });
}

namespace {

// HDF5's reason, from the error stack: the API's message and, when it differs,
// the innermost one (which names the errno for I/O failures).
std::string take_reason() {
    struct Walk {
        std::string outer, inner;
    } walk;
    H5Ewalk2(
        H5E_DEFAULT, H5E_WALK_UPWARD,
        [](unsigned n, const H5E_error2_t* err, void* data) -> herr_t {
            auto* w = static_cast<Walk*>(data);
            const std::string desc = err->desc ? err->desc : "";
            if (n == 0) w->inner = desc;
            w->outer = desc;
            return 0;
        },
        &walk);
    H5Eclear2(H5E_DEFAULT);
    if (walk.outer.empty()) return "HDF5 reported an error";
    if (walk.inner == walk.outer) return walk.outer;
    return walk.outer + " (" + walk.inner + ")";
}

}  // namespace

void reclaim(hid_t memory_type, hid_t space, void* buffer) {
#if H5_VERSION_GE(1, 12, 0)
    H5Treclaim(memory_type, space, H5P_DEFAULT, buffer);
#else
    H5Dvlen_reclaim(memory_type, space, H5P_DEFAULT, buffer);  // 1.10 declares H5Treclaim but lacks it
#endif
}

std::string object_name(hid_t obj) {
    const ssize_t n = H5Iget_name(obj, nullptr, 0);
    if (n <= 0) return {};
    std::string name(static_cast<std::size_t>(n), '\0');
    H5Iget_name(obj, name.data(), name.size() + 1);
    return name;
}

std::string file_name(hid_t obj) {
    const ssize_t n = H5Fget_name(obj, nullptr, 0);
    if (n <= 0) return {};
    std::string name(static_cast<std::size_t>(n), '\0');
    H5Fget_name(obj, name.data(), name.size() + 1);
    return name;
}

void fail(std::string_view what, hid_t loc, std::string_view object) {
    const std::string reason = take_reason();
    std::string where;
    std::string file;
    if (loc >= 0) {
        where = object_name(loc);
        file = file_name(loc);
        H5Eclear2(H5E_DEFAULT);
    }
    if (!object.empty() && object.front() == '/') {
        where = object;
    } else if (!object.empty()) {
        if (!where.empty() && where.back() != '/') where += '/';
        where += object;
    }
    std::string message(what);
    if (!where.empty()) message += " '" + where + "'";
    if (!file.empty()) message += " in '" + file + "'";
    throw OutputError(message + ": " + reason);
}

namespace {
std::string file_failure(std::string_view what, std::string_view file) {
    return std::string(what) + " '" + std::string(file) + "': " + take_reason();
}
}  // namespace

void fail_file(std::string_view what, std::string_view file) { throw OutputError(file_failure(what, file)); }

void fail_input_file(std::string_view what, std::string_view file) { throw NotResultsFile(file_failure(what, file)); }

PropList make_plist(hid_t cls, std::string_view what) {
    return own<PropList>(H5Pcreate(cls), what, -1);
}

PropList conversion_transfer(std::size_t elements, std::size_t element_bytes) {
    PropList dxpl = make_plist(H5P_DATASET_XFER, "create transfer properties");
    const std::size_t bytes = std::max<std::size_t>(elements * element_bytes, 4096);
    check(H5Pset_buffer(dxpl.get(), bytes, nullptr, nullptr), "size the conversion buffer", -1);
    return dxpl;
}

Dataspace make_space(int rank, const hsize_t* dims, const hsize_t* maxdims) {
    return own<Dataspace>(H5Screate_simple(rank, dims, maxdims), "create dataspace", -1);
}

Dataspace scalar_space() {
    return own<Dataspace>(H5Screate(H5S_SCALAR), "create dataspace", -1);
}

Datatype string_type() {
    Datatype t = own<Datatype>(H5Tcopy(H5T_C_S1), "copy string type", -1);
    check(H5Tset_size(t.get(), H5T_VARIABLE), "set string size", -1);
    check(H5Tset_cset(t.get(), H5T_CSET_UTF8), "set string encoding", -1);
    return t;
}

Datatype bool_type(bool native) {
    Datatype t =
        own<Datatype>(H5Tenum_create(native ? H5T_NATIVE_INT8 : H5T_STD_I8LE), "create bool type", -1);
    std::int8_t value = 0;
    check(H5Tenum_insert(t.get(), "FALSE", &value), "create bool type", -1);
    value = 1;
    check(H5Tenum_insert(t.get(), "TRUE", &value), "create bool type", -1);
    return t;
}

namespace {

// "open attribute 'units' of" + " '/firm/cash' in 'out.h5'": the object comes from fail().
std::string about(std::string_view op, std::string_view attribute) {
    return std::string(op) + " '" + std::string(attribute) + "' of";
}

Attribute open_or_create_attribute(hid_t obj, const char* name, hid_t type) {
    if (check(H5Aexists(obj, name), about("look up attribute", name), obj) > 0)
        check(H5Adelete(obj, name), about("replace attribute", name), obj);
    const Dataspace space = scalar_space();
    return own<Attribute>(H5Acreate2(obj, name, type, space.get(), H5P_DEFAULT, H5P_DEFAULT),
                          about("create attribute", name), obj);
}

}  // namespace

void write_attribute(hid_t obj, const char* name, std::string_view value) {
    const Datatype type = string_type();
    const Attribute attr = open_or_create_attribute(obj, name, type.get());
    const std::string text(value);
    const char* pointer = text.c_str();
    check(H5Awrite(attr.get(), type.get(), &pointer), about("write attribute", name), obj);
}

void write_attribute(hid_t obj, const char* name, std::uint64_t value) {
    const Attribute attr = open_or_create_attribute(obj, name, H5T_STD_U64LE);
    check(H5Awrite(attr.get(), H5T_NATIVE_UINT64, &value), about("write attribute", name), obj);
}

void write_attribute_bool(hid_t obj, const char* name, bool value) {
    const Datatype file_type = bool_type(false);
    const Datatype memory_type = bool_type(true);
    const Attribute attr = open_or_create_attribute(obj, name, file_type.get());
    const std::int8_t byte = value ? 1 : 0;
    check(H5Awrite(attr.get(), memory_type.get(), &byte), about("write attribute", name), obj);
}

bool has_attribute(hid_t obj, const char* name) {
    return check(H5Aexists(obj, name), about("look up attribute", name), obj) > 0;
}

std::string read_attribute_string(hid_t obj, const char* name) {
    const Attribute attr =
        own<Attribute>(H5Aopen(obj, name, H5P_DEFAULT), about("open attribute", name), obj);
    const Datatype type = own<Datatype>(H5Aget_type(attr.get()), about("read attribute type", name), obj);
    if (H5Tget_class(type.get()) != H5T_STRING)
        throw OutputError("attribute '" + std::string(name) + "' of '" + object_name(obj) + "' in '" +
                          file_name(obj) + "' is not text");
    if (check(H5Tis_variable_str(type.get()), about("read attribute type", name), obj) > 0) {
        const Datatype memory = string_type();
        char* pointer = nullptr;
        check(H5Aread(attr.get(), memory.get(), &pointer), about("read attribute", name), obj);
        std::string text = pointer ? pointer : "";
        H5free_memory(pointer);
        return text;
    }
    std::vector<char> buffer(H5Tget_size(type.get()) + 1, '\0');
    check(H5Aread(attr.get(), type.get(), buffer.data()), about("read attribute", name), obj);
    return std::string(buffer.data(), strnlen(buffer.data(), buffer.size()));
}

std::uint64_t read_attribute_uint(hid_t obj, const char* name) {
    const Attribute attr =
        own<Attribute>(H5Aopen(obj, name, H5P_DEFAULT), about("open attribute", name), obj);
    const Datatype type = own<Datatype>(H5Aget_type(attr.get()), about("read attribute type", name), obj);
    const H5T_class_t cls = H5Tget_class(type.get());
    if (cls == H5T_INTEGER) {
        std::uint64_t value = 0;
        check(H5Aread(attr.get(), H5T_NATIVE_UINT64, &value), about("read attribute", name), obj);
        return value;
    }
    if (cls == H5T_ENUM && H5Tget_size(type.get()) <= 8) {
        // Enums convert only to enums: read in the native enum, widen by hand.
        const Datatype native = own<Datatype>(H5Tget_native_type(type.get(), H5T_DIR_DEFAULT),
                                              about("read attribute type", name), obj);
        std::int64_t value = 0;
        unsigned char bytes[8] = {};
        check(H5Aread(attr.get(), native.get(), bytes), about("read attribute", name), obj);
        if (H5Tget_size(native.get()) == 1) {
            value = static_cast<std::int8_t>(bytes[0]);
        } else {
            std::memcpy(&value, bytes, H5Tget_size(native.get()));
        }
        return static_cast<std::uint64_t>(value);
    }
    throw OutputError("attribute '" + std::string(name) + "' of '" + object_name(obj) + "' in '" +
                      file_name(obj) + "' is not an integer");
}

}  // namespace entangle::h5
