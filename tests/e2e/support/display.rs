//! A private X display and processes that never outlive their test: shared by the desktop
//! end-to-end test and the desktop bench.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A process started in a process group of its own, killed with everything it started (the
/// WebDriver, the app, its WebKit processes, its model worker) when dropped, however the test
/// ends.
pub struct Reaped(pub Child);

impl Reaped {
    /// Starts `command` in a new process group.
    pub fn spawn(command: &mut Command) -> Self {
        use std::os::unix::process::CommandExt as _;
        Self(
            command
                .process_group(0)
                .spawn()
                .unwrap_or_else(|err| panic!("{:?} does not start: {err}", command.get_program())),
        )
    }
}

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.0.id())])
            .status();
        let _ = self.0.wait();
    }
}

/// Starts Xvfb on a display numbered from `first` (plus this process's id, so parallel runs
/// do not collide) and waits for its socket; returns it with the `DISPLAY` value.
pub fn start_xvfb(first: u32) -> (Reaped, String) {
    let number = first + std::process::id() % 300;
    let display = format!(":{number}");
    let xvfb = Reaped::spawn(
        Command::new("Xvfb")
            .args([&display, "-screen", "0", "1440x900x24", "-nolisten", "tcp"])
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    let socket = PathBuf::from(format!("/tmp/.X11-unix/X{number}"));
    let started = Instant::now();
    while !socket.exists() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "Xvfb did not start (apt-get install xvfb)"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (xvfb, display)
}
