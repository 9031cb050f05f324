//! A bare extraction worker process, for the crate's own tests. Airlock's binaries serve the
//! same protocol in-process via [`airlock_rag::serve_if_requested`].

fn main() {
    std::process::exit(airlock_rag::worker::serve());
}
