//! Timing helpers shared by the connector benches: warm up, time each call, print p50/p99/mean.

use std::time::{Duration, Instant};

/// The table's column heads.
pub fn header() {
    println!(
        "{:<40} {:>9} {:>9} {:>9}",
        "", "p50 ms", "p99 ms", "mean ms"
    );
}

/// One row: `name` with the p50, p99 and mean of `samples`.
pub fn summary(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let at = |q: f64| ms(samples[((samples.len() - 1) as f64 * q).round() as usize]);
    let mean = samples.iter().map(|d| ms(*d)).sum::<f64>() / samples.len() as f64;
    println!(
        "{name:<40} {:>9.3} {:>9.3} {:>9.3}",
        at(0.5),
        at(0.99),
        mean
    );
}

/// Runs `call` `runs / 10` times untimed, then `runs` times timed.
pub fn time(runs: usize, mut call: impl FnMut()) -> Vec<Duration> {
    for _ in 0..runs / 10 {
        call();
    }
    (0..runs)
        .map(|_| {
            let started = Instant::now();
            call();
            started.elapsed()
        })
        .collect()
}
