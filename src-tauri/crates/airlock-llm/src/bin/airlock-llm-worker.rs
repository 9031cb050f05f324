//! A bare model worker process, for the crate's own tests and benchmarks. Airlock's binaries
//! run the same loop in-process via [`airlock_llm::worker::run_if_requested`].

fn main() {
    std::process::exit(airlock_llm::worker::serve());
}
