#pragma once
// Private to output/: the one typed RAII wrapper around the HDF5 C API
// (STYLE.md habit 8). Every hid_t lives in a move-only handle; every negative
// return becomes an OutputError naming the file, the object and HDF5's reason.
#include <hdf5.h>
#include <hdf5_hl.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "output/output_error.hpp"

namespace entangle::h5 {

// Turns HDF5's automatic error printing off (errors come back as exceptions)
// and makes libdeflate HDF5's deflate filter (hdf5_handle.cpp). Idempotent;
// every entry point of output/ calls it first.
void init();

// Throws OutputError "<what> <object> in '<file>': <HDF5's reason>". `loc` is any
// open id in the file (or negative); `object` is a name relative to it.
[[noreturn]] void fail(std::string_view what, hid_t loc, std::string_view object);
// The same for failures before a file id exists.
[[noreturn]] void fail_file(std::string_view what, std::string_view file);
// The same as NotResultsFile: a file given to be read that HDF5 cannot open.
[[noreturn]] void fail_input_file(std::string_view what, std::string_view file);

template <typename T>
inline T check(T ret, std::string_view what, hid_t loc, std::string_view object = {}) {
    if (ret < 0) fail(what, loc, object);
    return ret;
}

template <herr_t (*Close)(hid_t)>
class Handle {
public:
    Handle() noexcept = default;
    explicit Handle(hid_t id) noexcept : id_(id) {}
    Handle(Handle&& other) noexcept : id_(std::exchange(other.id_, H5I_INVALID_HID)) {}
    Handle& operator=(Handle&& other) noexcept {
        if (this != &other) {
            reset();
            id_ = std::exchange(other.id_, H5I_INVALID_HID);
        }
        return *this;
    }
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;
    ~Handle() { reset(); }

    hid_t get() const noexcept { return id_; }
    explicit operator bool() const noexcept { return id_ >= 0; }
    // Closes quietly (destructors, error paths).
    void reset() noexcept {
        if (id_ >= 0) Close(id_);
        id_ = H5I_INVALID_HID;
    }
    // Closes and reports failure: closing a file flushes it, which can fail.
    void close(std::string_view what, std::string_view object) {
        if (id_ < 0) return;
        const hid_t id = std::exchange(id_, H5I_INVALID_HID);
        if (Close(id) < 0) fail(what, H5I_INVALID_HID, object);
    }

private:
    hid_t id_ = H5I_INVALID_HID;
};

using File = Handle<H5Fclose>;
using Group = Handle<H5Gclose>;
using Dataset = Handle<H5Dclose>;
using Dataspace = Handle<H5Sclose>;
using Datatype = Handle<H5Tclose>;
using Attribute = Handle<H5Aclose>;
using PropList = Handle<H5Pclose>;
using Object = Handle<H5Oclose>;

// Wraps a freshly returned id, throwing when it is negative.
template <typename H>
inline H own(hid_t id, std::string_view what, hid_t loc, std::string_view object = {}) {
    return H(check(id, what, loc, object));
}

PropList make_plist(hid_t cls, std::string_view what);
// Transfer properties for writing `elements` elements that HDF5 must convert
// (text, compound rows): its conversion buffers sized to them. By default
// HDF5 allocates 1 MiB and zeroes a second 1 MiB for every such write, which
// cost more than writing a few labels or table rows.
PropList conversion_transfer(std::size_t elements, std::size_t element_bytes);
Dataspace make_space(int rank, const hsize_t* dims, const hsize_t* maxdims = nullptr);
Dataspace scalar_space();

// Variable-length UTF-8 string (what h5py and h5netcdf read as str).
Datatype string_type();
// h5py's bool: an int8 enum {FALSE = 0, TRUE = 1}; reads as numpy bool.
Datatype bool_type(bool native);

// Scalar attributes on any object.
void write_attribute(hid_t obj, const char* name, std::string_view value);
void write_attribute(hid_t obj, const char* name, std::uint64_t value);
void write_attribute_bool(hid_t obj, const char* name, bool value);

bool has_attribute(hid_t obj, const char* name);
std::string read_attribute_string(hid_t obj, const char* name);
// Any integer or enum (bool) attribute, as an unsigned 64-bit value.
std::uint64_t read_attribute_uint(hid_t obj, const char* name);

// Frees the variable-length strings HDF5 allocated while reading into `buffer`.
void reclaim(hid_t memory_type, hid_t space, void* buffer);

// Name of an object ("/firm/cash") and of its file, for messages.
std::string object_name(hid_t obj);
std::string file_name(hid_t obj);

}  // namespace entangle::h5
