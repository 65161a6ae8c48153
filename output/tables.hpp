#pragma once
// Private to output/: the row formats of /tables/contracts and /tables/events,
// shared by the writer and the reader. Each text column is either a
// fixed-length UTF-8 string, NUL-padded (what a sweep writes for columns whose
// values are bounded: TableTextBounds), or a variable-length one (the free
// text of events, and every text column of runs and compares). Flags are h5py
// bools (int8 enum), point/replication uint32, money and quantities float64.
// Rows are packed in memory column after column, as in the file: with no
// variable-length column, HDF5 writes them without converting anything.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/sweep.hpp"
#include "output/hdf5_handle.hpp"

namespace entangle::h5 {

class TableFormat {
public:
    enum class Kind : std::uint8_t { u32, f64, flag, text };
    struct Column {
        const char* name;
        Kind kind;
        std::size_t width = 0;  // text: bytes of a fixed-length string; 0: variable-length
        std::size_t offset = 0;  // in a packed row
    };

    // The formats a writer creates: widths from `bounds` (0: variable-length).
    static TableFormat contracts(const TableTextBounds& bounds);
    static TableFormat events(const TableTextBounds& bounds);
    // The format a table was stored with (either kind of text column), for
    // reading it: throws OutputError if a column is missing or of another class.
    static TableFormat contracts_of(hid_t dataset);
    static TableFormat events_of(hid_t dataset);

    const std::vector<Column>& columns() const { return columns_; }
    std::size_t row_bytes() const { return row_bytes_; }
    bool has_variable_text() const;
    Datatype file_type() const;
    Datatype memory_type() const;

private:
    Datatype compound_type(bool in_memory) const;
    std::vector<Column> columns_;
    std::size_t row_bytes_ = 0;
    void add(const char* name, Kind kind, std::size_t width = 0);
    static TableFormat of(hid_t dataset, const TableFormat& expected);
};

// Packs rows column by column into a byte buffer of `format`'s rows. A
// variable-length column keeps a pointer to the text: it must outlive the
// write. A fixed-length column takes a copy; a text longer than its width is
// an OutputError (never cut), naming `table` and the column.
class RowPacker {
public:
    RowPacker(const TableFormat& format, const char* table) : format_(&format), table_(table) {}
    void clear() { bytes_.clear(), rows_ = 0; }
    void begin_row();
    void u32(std::uint32_t v);
    void f64(double v);
    void flag(bool v);
    void text(const std::string& v);
    const unsigned char* data() const { return bytes_.data(); }
    std::size_t rows() const { return rows_; }

private:
    unsigned char* next(TableFormat::Kind kind);
    const TableFormat* format_;
    const char* table_;
    std::vector<unsigned char> bytes_;
    std::size_t rows_ = 0, column_ = 0;
};

// Reads packed rows column by column (the same order as they were packed).
class RowUnpacker {
public:
    RowUnpacker(const TableFormat& format, const unsigned char* rows) : format_(&format), at_(rows) {}
    void begin_row(std::size_t row);
    std::uint32_t u32();
    double f64();
    bool flag();
    std::string text();

private:
    const unsigned char* next(TableFormat::Kind kind);
    const TableFormat* format_;
    const unsigned char* at_;
    const unsigned char* row_ = nullptr;
    std::size_t column_ = 0;
};

}  // namespace entangle::h5
