//! The `airlock` binary: the headless command line (the library does the work).

fn main() -> std::process::ExitCode {
    airlock_cli::run()
}
