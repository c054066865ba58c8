// What rank 0 of dynlib::mpi::Executor spends while it waits for messages (bench/mpi_overhead.sh): when
// nothing arrives it pauses (up to 1 ms while a result may be due, 8 ms while none can be) and probes
// for the three kinds of message, over and over. Here rank 0 does exactly that for S seconds (PROBES probes
// per wake-up, pauses of PAUSE us) while rank 1 sleeps, and prints the CPU time of rank 0's thread per
// wake-up. Build: mpicxx -O2 -std=c++20 mpi_wait_cost.cpp.
//   mpirun -np 2 ./mpi_wait_cost [S [PROBES [PAUSE]]]   defaults: 3 s, 1 probe, 1000 us
#include <mpi.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
static double cpu() {
  rusage u{};
  getrusage(RUSAGE_THREAD, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + 1e-6 * (u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}
int main(int argc, char** argv) {
  int provided = 0, rank = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  const double secs = argc > 1 ? std::atof(argv[1]) : 3.0;
  const int probes = argc > 2 ? std::atoi(argv[2]) : 1;
  const int pause_us = argc > 3 ? std::atoi(argv[3]) : 1000;
  if (rank == 0) {
    const double c0 = cpu();
    const auto t0 = std::chrono::steady_clock::now();
    long wakes = 0;
    int flag = 0;
    MPI_Status st;
    while (std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < secs) {
      std::this_thread::sleep_for(std::chrono::microseconds(pause_us));
      for (int k = 0; k < probes; ++k) MPI_Iprobe(MPI_ANY_SOURCE, 100 + k, MPI_COMM_WORLD, &flag, &st);
      ++wakes;
    }
    const double used = cpu() - c0;
    std::printf(
        "pauses of %d us, %d probe(s) per wake-up: %ld wake-ups in %.1f s, %.1f us of CPU each, "
        "%.2f%% of a core\n",
        pause_us, probes, wakes, secs, 1e6 * used / wakes, 100 * used / secs);
  } else {
    std::this_thread::sleep_for(std::chrono::duration<double>(secs + 0.5));
  }
  MPI_Finalize();
}
