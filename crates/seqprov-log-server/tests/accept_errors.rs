//! The accept thread outlives running out of file descriptors (spec/log.md §4): with this
//! process's descriptor table full, connections from other processes are accepted (the
//! thread blocked in `accept` holds a reserved descriptor) but their second handle cannot
//! be made (EMFILE); the original tiny_http `unwrap`ped that `try_clone` and its accept
//! thread died, so the service never answered again. Now the connection is dropped, the
//! thread backs off and goes on, and a fresh client is served once descriptors are free.
//! (An `accept` failing with EMFILE itself takes the same back-off path.) Alone in its
//! test binary: it lowers this process's RLIMIT_NOFILE (util-linux `prlimit`, and bash's
//! `/dev/tcp` for the clients) and restores it.

mod support;

use std::time::{Duration, Instant};

use support::{Outcome, get, short_limits, start_log};

fn open_descriptors() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count())
        .unwrap_or(0)
}

fn nofile() -> (u64, u64) {
    let limits = std::fs::read_to_string("/proc/self/limits").expect("limits");
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .expect("Max open files");
    let numbers: Vec<u64> = line
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    (numbers[0], numbers[1])
}

fn set_nofile(soft: u64, hard: u64) -> bool {
    std::process::Command::new("prlimit")
        .arg(format!("--pid={}", std::process::id()))
        .arg(format!("--nofile={soft}:{hard}"))
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn running_out_of_descriptors_does_not_stop_the_service() {
    let server = start_log(short_limits(), 2);
    let (soft, hard) = nofile();
    // Clients in other processes (bash's /dev/tcp), so that only the server's accept
    // lacks descriptors: they connect a second from now, while this process has none left.
    let port = server.addr.port();
    let clients: Vec<std::process::Child> = (0..4)
        .map(|_| {
            std::process::Command::new("bash")
                .arg("-c")
                .arg(format!(
                    "sleep 1; exec 3<>/dev/tcp/127.0.0.1/{port}; sleep 2"
                ))
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("bash")
        })
        .collect();
    if !set_nofile(open_descriptors() as u64 + 8, hard) {
        eprintln!("prlimit is not available: test not run");
        return;
    }
    let mut filler = Vec::new();
    while let Ok(file) = std::fs::File::open("/dev/null") {
        filler.push(file);
    }
    // The clients connect now; each accept fails with EMFILE.
    std::thread::sleep(Duration::from_millis(2000));
    drop(filler);
    assert!(set_nofile(soft, hard), "restoring the limit");
    for mut client in clients {
        let _ = client.wait();
    }
    let start = Instant::now();
    loop {
        match get(server.addr, "/checkpoint") {
            Outcome::Answer { status: 200, .. } => break,
            other => {
                assert!(
                    start.elapsed() < Duration::from_secs(10),
                    "not served after EMFILE: {other:?}"
                );
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    }
}
