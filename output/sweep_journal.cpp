#include "output/sweep_journal.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include <libdeflate.h>

namespace entangle {

namespace fs = std::filesystem;

namespace {

// Version 2: entries end with a CRC-32 instead of version 1's FNV-1a, which
// (byte by byte, computed when writing and again when reading back) was 2.7%
// of a sweep that keeps every replication; libdeflate's CRC-32 takes ~1% of that.
constexpr char file_magic[8] = {'E', 'N', 'T', 'J', 'R', 'N', 'L', '2'};
constexpr char version_1_magic[8] = {'E', 'N', 'T', 'J', 'R', 'N', 'L', '1'};
constexpr std::uint32_t entry_magic = 0x31544e50;  // "PNT1"

std::uint32_t checksum(const unsigned char* data, std::size_t n) { return libdeflate_crc32(0, data, n); }

// Appends to b from its start: the first `used` bytes are the output. b only
// grows (doubling), so a buffer reused for every entry is not cleared and
// zero-filled again field by field (a resize per field was 0.7% of a sweep
// keeping every replication).
struct Out {
    std::vector<unsigned char>& b;
    std::size_t used = 0;
    template <typename T>
    void pod(const T& v) {
        bytes(&v, sizeof(T));
    }
    // resize + memcpy: GCC 12 misreports vector::insert of a few bytes (-Wstringop-overflow).
    void bytes(const void* data, std::size_t n) {
        if (n == 0) return;
        if (b.size() < used + n) b.resize(std::max(used + n, 2 * b.size()));
        std::memcpy(b.data() + used, data, n);
        used += n;
    }
    void str(const std::string& s) {
        pod(static_cast<std::uint32_t>(s.size()));
        bytes(s.data(), s.size());
    }
};

struct In {
    const unsigned char* p;
    const unsigned char* end;
    void need(std::size_t n) {
        if (static_cast<std::size_t>(end - p) < n) throw OutputError("journal entry is shorter than its contents");
    }
    template <typename T>
    T pod() {
        need(sizeof(T));
        T v;
        std::memcpy(&v, p, sizeof(T));
        p += sizeof(T);
        return v;
    }
    void str(std::string& s) {  // into s: no temporary string per field
        const auto n = pod<std::uint32_t>();
        need(n);
        s.assign(reinterpret_cast<const char*>(p), n);
        p += n;
    }
};

void write_all(int fd, const unsigned char* data, std::size_t n, const fs::path& path) {
    while (n > 0) {
        const ssize_t w = ::write(fd, data, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            throw OutputError("cannot write the sweep journal '" + path.string() + "': " + std::strerror(errno));
        }
        data += w;
        n -= static_cast<std::size_t>(w);
    }
}

void serialise(Out& o, const ReplicationRecord& r) {
    o.pod(r.replication);
    o.pod(static_cast<std::int32_t>(r.shape.times));
    o.pod(static_cast<std::int32_t>(r.shape.firms));
    o.pod(static_cast<std::int32_t>(r.shape.chips));
    o.pod(static_cast<std::uint8_t>(r.shape.network));
    o.pod(static_cast<std::uint32_t>(r.drawn.size()));
    o.bytes(r.drawn.data(), r.drawn.size() * sizeof(double));
    o.pod(static_cast<std::uint32_t>(r.contracts.size()));
    for (const ContractRow& c : r.contracts) {
        for (const std::string* s : {&c.id, &c.kind, &c.seller, &c.buyer, &c.signed_month, &c.start, &c.end,
                                     &c.status, &c.end_reason})
            o.str(*s);
        o.pod(c.quantity_h100e), o.pod(c.price_usd_per_h100e_hour), o.pod(c.value_usd);
        o.pod(static_cast<std::uint8_t>(c.exclusive)), o.pod(static_cast<std::uint8_t>(c.rofr));
        o.pod(static_cast<std::uint8_t>(c.until_agi));
    }
    o.pod(static_cast<std::uint32_t>(r.events.size()));
    for (const EventRow& e : r.events)
        for (const std::string* s : {&e.time, &e.kind, &e.firms, &e.text}) o.str(*s);
    o.pod(static_cast<std::uint32_t>(r.encoded.size()));
    for (const std::vector<unsigned char>& chunk : r.encoded) {
        o.pod(static_cast<std::uint64_t>(chunk.size()));
        o.bytes(chunk.data(), chunk.size());
    }
}

ReplicationRecord deserialise(In& in, std::uint32_t point) {
    ReplicationRecord r;
    r.point = point;
    r.replication = in.pod<std::uint32_t>();
    r.shape.times = in.pod<std::int32_t>();
    r.shape.firms = in.pod<std::int32_t>();
    r.shape.chips = in.pod<std::int32_t>();
    r.shape.network = in.pod<std::uint8_t>() != 0;
    r.drawn.resize(in.pod<std::uint32_t>());
    for (double& d : r.drawn) d = in.pod<double>();
    r.contracts.resize(in.pod<std::uint32_t>());
    for (ContractRow& c : r.contracts) {
        for (std::string* s : {&c.id, &c.kind, &c.seller, &c.buyer, &c.signed_month, &c.start, &c.end, &c.status,
                               &c.end_reason})
            in.str(*s);
        c.quantity_h100e = in.pod<double>(), c.price_usd_per_h100e_hour = in.pod<double>();
        c.value_usd = in.pod<double>();
        c.exclusive = in.pod<std::uint8_t>() != 0, c.rofr = in.pod<std::uint8_t>() != 0;
        c.until_agi = in.pod<std::uint8_t>() != 0;
    }
    r.events.resize(in.pod<std::uint32_t>());
    for (EventRow& e : r.events)
        for (std::string* s : {&e.time, &e.kind, &e.firms, &e.text}) in.str(*s);
    r.encoded.resize(in.pod<std::uint32_t>());
    for (std::vector<unsigned char>& chunk : r.encoded) {
        const auto n = in.pod<std::uint64_t>();
        in.need(n);
        chunk.assign(in.p, in.p + n);
        in.p += n;
    }
    return r;
}

}  // namespace

fs::path journal_path_for(const fs::path& results, int process) {
    fs::path p = results;
    p += ".journal-" + std::to_string(process);
    return p;
}

std::vector<fs::path> find_journals(const fs::path& results) {
    std::vector<fs::path> found;
    const fs::path dir = results.has_parent_path() ? results.parent_path() : fs::path(".");
    const std::string prefix = results.filename().string() + ".journal-";
    std::error_code ec;
    for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
        const std::string name = e.path().filename().string();
        if (name.rfind(prefix, 0) == 0 && name.size() > prefix.size() &&
            std::all_of(name.begin() + static_cast<std::ptrdiff_t>(prefix.size()), name.end(),
                        [](char c) { return c >= '0' && c <= '9'; }))
            found.push_back(results.has_parent_path() ? e.path() : fs::path(name));
    }
    std::sort(found.begin(), found.end());
    return found;
}

JournalWriter::JournalWriter(fs::path path, const std::string& identity, bool append) : path_(std::move(path)) {
    fd_ = ::open(path_.c_str(), append ? (O_WRONLY | O_APPEND) : (O_WRONLY | O_CREAT | O_TRUNC), 0644);
    if (fd_ < 0)
        throw OutputError("cannot open the sweep journal '" + path_.string() + "': " + std::strerror(errno));
    if (append) return;
    std::vector<unsigned char> header;
    Out o{header};
    o.bytes(file_magic, sizeof file_magic);
    o.str(identity);
    write_all(fd_, header.data(), o.used, path_);
}

JournalWriter::~JournalWriter() {
    if (fd_ >= 0) ::close(fd_);
}

void JournalWriter::append(std::uint32_t point, const std::vector<ReplicationRecord>& records) {
    Out o{buffer_};
    o.pod(entry_magic);
    o.pod(point);
    o.pod(std::uint64_t{0});  // payload length, filled below
    const std::size_t begin = o.used;
    o.pod(static_cast<std::uint32_t>(records.size()));
    for (const ReplicationRecord& r : records) serialise(o, r);
    const std::uint64_t length = o.used - begin;
    std::memcpy(buffer_.data() + begin - sizeof(std::uint64_t), &length, sizeof length);
    o.pod(checksum(buffer_.data() + begin, length));
    // One write of the whole entry: after a kill it is either all there or cut short.
    write_all(fd_, buffer_.data(), o.used, path_);
}

void JournalTail::poll(bool settled, const Checked& checked) {
    // Opened afresh each time: a journal written on another node shows its
    // appends to a new open (NFS close-to-open consistency).
    std::ifstream file(path_, std::ios::binary);
    if (!file) {
        if (settled) throw OutputError("cannot open the sweep journal '" + path_.string() + "'");
        return;
    }
    std::error_code ec;
    const std::uint64_t size = fs::file_size(path_, ec);
    if (ec) {
        if (settled) throw OutputError("cannot read the size of the sweep journal '" + path_.string() + "'");
        return;
    }
    if (!started_) {
        // The header is one write(2): until all of it is there, the journal has not started.
        const auto not_yet = [&] {
            if (settled) throw OutputError("the sweep journal '" + path_.string() + "' has a damaged header");
        };
        constexpr std::uint64_t fixed = sizeof file_magic + 4;
        if (size < fixed) return not_yet();
        char magic[sizeof file_magic];
        std::uint32_t identity_length = 0;
        if (!file.read(magic, sizeof magic)) return not_yet();
        if (std::memcmp(magic, version_1_magic, sizeof magic) == 0)
            throw OutputError("the sweep journal '" + path_.string() +
                              "' was written by an older entangle (journal version 1); finish that sweep with "
                              "the entangle that started it, or run it again without --resume");
        if (std::memcmp(magic, file_magic, sizeof magic) != 0)
            throw OutputError("'" + path_.string() + "' is not an entangle sweep journal");
        if (!file.read(reinterpret_cast<char*>(&identity_length), 4) || identity_length > size - fixed)
            return not_yet();
        identity_.resize(identity_length);
        if (!file.read(identity_.data(), identity_length)) return not_yet();
        at_ = sizeof file_magic + 4 + identity_length;
        started_ = true;
    } else {
        file.seekg(static_cast<std::streamoff>(at_));
    }
    constexpr std::uint64_t head = 4 + 4 + 8, tail = 4;
    std::vector<unsigned char>& payload = payload_;
    while (size - at_ >= head + tail) {
        unsigned char h[head];
        if (!file.read(reinterpret_cast<char*>(h), head)) break;
        std::uint32_t entry, point;
        std::uint64_t length;
        std::memcpy(&entry, h, 4);
        std::memcpy(&point, h + 4, 4);
        std::memcpy(&length, h + 8, 8);
        if (entry != entry_magic || length > size - at_ - head - tail) break;
        payload.resize(length);
        std::uint32_t sum = 0;
        if (!file.read(reinterpret_cast<char*>(payload.data()), static_cast<std::streamsize>(length)) ||
            !file.read(reinterpret_cast<char*>(&sum), sizeof sum) || sum != checksum(payload.data(), length))
            break;
        const JournalEntry valid{point, index_, at_ + head, length};
        at_ += head + length + tail;
        checked(valid, std::span<const unsigned char>(payload.data(), length));
    }
}

JournalScan scan_journal(const fs::path& path, std::size_t index) {
    // Entry by entry: only one point's payload is in memory at a time.
    JournalTail tail(path, index);
    JournalScan scan;
    tail.poll(true, [&](const JournalEntry& e, std::span<const unsigned char>) { scan.entries.push_back(e); });
    scan.identity = tail.identity();
    scan.valid_bytes = tail.valid_bytes();
    std::error_code ec;
    scan.torn = scan.valid_bytes < fs::file_size(path, ec);
    return scan;
}

void truncate_journal(const fs::path& path, std::uint64_t bytes) {
    std::error_code ec;
    fs::resize_file(path, bytes, ec);
    if (ec) throw OutputError("cannot cut the sweep journal '" + path.string() + "' to its valid part: " + ec.message());
}

std::vector<ReplicationRecord> read_journal_entry(const fs::path& path, const JournalEntry& entry) {
    std::ifstream file(path, std::ios::binary);
    if (!file) throw OutputError("cannot open the sweep journal '" + path.string() + "'");
    std::vector<unsigned char> payload(entry.length);
    file.seekg(static_cast<std::streamoff>(entry.offset));
    file.read(reinterpret_cast<char*>(payload.data()), static_cast<std::streamsize>(entry.length));
    if (!file) throw OutputError("cannot read an entry of the sweep journal '" + path.string() + "'");
    return read_journal_payload(payload, entry.point);
}

std::vector<ReplicationRecord> read_journal_payload(std::span<const unsigned char> payload, std::uint32_t point) {
    In in{payload.data(), payload.data() + payload.size()};
    std::vector<ReplicationRecord> records(in.pod<std::uint32_t>());
    for (ReplicationRecord& r : records) r = deserialise(in, point);
    return records;
}

}  // namespace entangle
