#include "engine/mpi/mpi_points.hpp"

#include <mpi.h>

#include <chrono>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

namespace entangle::mpi {

namespace {
constexpr int tag_request = 101, tag_reply = 102;
}

Session::Session(int& argc, char**& argv) {
    int provided = 0;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_SERIALIZED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    if (provided < MPI_THREAD_SERIALIZED) {
        MPI_Finalize();
        throw std::runtime_error("the MPI library does not support calls from threads (MPI_THREAD_SERIALIZED)");
    }
}

Session::~Session() { MPI_Finalize(); }

void Session::barrier() const { MPI_Barrier(MPI_COMM_WORLD); }

int Session::max_over_ranks(int value) const {
    int out = value;
    MPI_Allreduce(&value, &out, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    return out;
}

void Session::abort(int code) const {
    MPI_Abort(MPI_COMM_WORLD, code);
    std::abort();
}

struct CoordinatedSource::Impl {
    const Session& session;
    const std::atomic<bool>* cancel;
    std::unique_ptr<PointSource> points;  // rank 0
    std::size_t next = 0;                 // points handed out
    std::mutex mutex;
    std::thread coordinator;
    bool told_done = false;  // other ranks: rank 0 said there is nothing left

    Impl(const Session& s, std::unique_ptr<PointSource> p, const std::atomic<bool>* c)
        : session(s), cancel(c), points(std::move(p)) {}

    std::optional<std::uint32_t> take() {
        std::lock_guard lock(mutex);
        if ((cancel && cancel->load()) || !points) return std::nullopt;
        const std::optional<std::uint32_t> point = points->next();
        if (point) ++next;
        return point;
    }

    // Rank 0: answers requests until each other rank has been told to stop.
    // Polls with a short sleep rather than a blocking receive, which spins a
    // core in most MPI libraries and would take it from the workers.
    void serve() {
        int stopped = 0;
        const int others = session.size() - 1;
        while (stopped < others) {
            int flag = 0;
            MPI_Status status;
            MPI_Iprobe(MPI_ANY_SOURCE, tag_request, MPI_COMM_WORLD, &flag, &status);
            if (!flag) {
                std::this_thread::sleep_for(std::chrono::microseconds(200));
                continue;
            }
            int request = 0;
            MPI_Recv(&request, 1, MPI_INT, status.MPI_SOURCE, tag_request, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            const auto point = request == 0 ? take() : std::nullopt;  // request 1: the rank stops (interrupted)
            const long long reply = point ? static_cast<long long>(*point) : -1;
            MPI_Send(&reply, 1, MPI_LONG_LONG, status.MPI_SOURCE, tag_reply, MPI_COMM_WORLD);
            if (!point) ++stopped;
        }
    }
};

CoordinatedSource::CoordinatedSource(const Session& session, std::unique_ptr<PointSource> points,
                                     const std::atomic<bool>* cancel)
    : impl_(std::make_unique<Impl>(session, std::move(points), cancel)) {
    if (session.rank() == 0 && session.size() > 1) impl_->coordinator = std::thread([this] { impl_->serve(); });
}

CoordinatedSource::~CoordinatedSource() {
    if (impl_->coordinator.joinable()) impl_->coordinator.join();
}

std::optional<std::uint32_t> CoordinatedSource::next() {
    if (impl_->session.rank() == 0) return impl_->take();
    if (impl_->told_done) return std::nullopt;
    const int request = impl_->cancel && impl_->cancel->load() ? 1 : 0;
    MPI_Send(&request, 1, MPI_INT, 0, tag_request, MPI_COMM_WORLD);
    long long reply = -1;
    MPI_Recv(&reply, 1, MPI_LONG_LONG, 0, tag_reply, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    if (reply < 0) {
        impl_->told_done = true;
        return std::nullopt;
    }
    return static_cast<std::uint32_t>(reply);
}

void CoordinatedSource::finish() {
    if (impl_->session.rank() != 0) {
        // A rank that stopped without hearing "done" (interrupted before asking) must still say so.
        if (!impl_->told_done) {
            const int request = 1;
            MPI_Send(&request, 1, MPI_INT, 0, tag_request, MPI_COMM_WORLD);
            long long reply = -1;
            MPI_Recv(&reply, 1, MPI_LONG_LONG, 0, tag_reply, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            impl_->told_done = true;
        }
        return;
    }
    if (impl_->coordinator.joinable()) impl_->coordinator.join();
}

std::size_t CoordinatedSource::handed_out() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->next;
}

}  // namespace entangle::mpi
