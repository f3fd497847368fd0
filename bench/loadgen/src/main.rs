//! Open-loop load: POSTs one body at a fixed mean rate, the arrivals random (Poisson) as
//! independent clients' are, over keep-alive connections, and prints the latency of each
//! request counted from when it was due, so that a request that waited for a free
//! connection counts its wait (wrk's closed loop would instead send less when the server is
//! slow, and its connections, paced alike, arrive in bursts).
//!
//! Usage: `loadgen ADDR PATH BODY_FILE RATE SECONDS [CONNECTIONS]` (`-` as the body file
//! sends GETs); prints `achieved_rps p50_ms p99_ms max_ms requests failures late_p99_ms`.
//! The last is how late the generator itself sent (p99 of sent minus due): on a machine it
//! shares with the server, its own wait for a core (or, with every connection busy, for one).

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

struct Load {
    addr: String,
    request: Vec<u8>,
    /// When each request is due, from the start.
    schedule: Vec<Duration>,
    next: AtomicUsize,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(addr), Some(path), Some(body), Some(rate), Some(seconds)) = (
        args.first(),
        args.get(1),
        args.get(2),
        args.get(3).and_then(|r| r.parse::<f64>().ok()),
        args.get(4).and_then(|s| s.parse::<f64>().ok()),
    ) else {
        eprintln!("usage: loadgen ADDR PATH BODY_FILE RATE SECONDS [CONNECTIONS]");
        return ExitCode::from(2);
    };
    let connections: usize = args.get(5).and_then(|c| c.parse().ok()).unwrap_or(16);
    let body = match body.as_str() {
        "-" => None,
        file => match std::fs::read(file) {
            Ok(body) => Some(body),
            Err(e) => {
                eprintln!("loadgen: {file}: {e}");
                return ExitCode::from(2);
            }
        },
    };
    let load = Arc::new(Load {
        addr: addr.clone(),
        request: request(addr, path, body.as_deref()),
        schedule: poisson_schedule(rate, seconds),
        next: AtomicUsize::new(0),
    });
    let samples = Arc::new(Mutex::new(Vec::with_capacity(load.schedule.len())));
    let failures = Arc::new(AtomicUsize::new(0));
    let start = Instant::now() + Duration::from_millis(100);
    let workers: Vec<_> = (0..connections)
        .map(|_| {
            let (load, samples, failures) = (load.clone(), samples.clone(), failures.clone());
            thread::spawn(move || worker(&load, start, &samples, &failures))
        })
        .collect();
    for worker in workers {
        let _ = worker.join();
    }
    let elapsed = start.elapsed().as_secs_f64();
    let samples = samples.lock().map(|s| s.clone()).unwrap_or_default();
    let mut latencies: Vec<Duration> = samples.iter().map(|s| s.latency).collect();
    let mut lateness: Vec<Duration> = samples.iter().map(|s| s.lateness).collect();
    latencies.sort_unstable();
    lateness.sort_unstable();
    println!(
        "{:.1} {:.2} {:.2} {:.2} {} {} {:.2}",
        latencies.len() as f64 / elapsed,
        quantile_ms(&latencies, 0.5),
        quantile_ms(&latencies, 0.99),
        quantile_ms(&latencies, 1.0),
        latencies.len(),
        failures.load(Ordering::Relaxed),
        quantile_ms(&lateness, 0.99)
    );
    ExitCode::SUCCESS
}

/// One answered request: its latency from when it was due, and how late it was sent.
#[derive(Clone, Copy)]
struct Sample {
    latency: Duration,
    lateness: Duration,
}

/// The `q` quantile of `sorted` in milliseconds (nearest rank); 0 when there is none.
fn quantile_ms(sorted: &[Duration], q: f64) -> f64 {
    let at = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len().max(1));
    sorted.get(at - 1).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

fn request(addr: &str, path: &str, body: Option<&[u8]>) -> Vec<u8> {
    let Some(body) = body else {
        return format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").into_bytes();
    };
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    request
}

/// Due times with exponentially distributed gaps of mean `1/rate`, over `seconds`.
fn poisson_schedule(rate: f64, seconds: f64) -> Vec<Duration> {
    // xorshift64*: reproducible, and good enough for arrival gaps.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut uniform = move || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        let bits = state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11;
        (bits as f64 + 0.5) / (1u64 << 53) as f64
    };
    let mut at = 0.0;
    let mut schedule = Vec::new();
    loop {
        at += -uniform().ln() / rate;
        if at >= seconds {
            return schedule;
        }
        schedule.push(Duration::from_secs_f64(at));
    }
}

fn worker(load: &Load, start: Instant, samples: &Mutex<Vec<Sample>>, failures: &AtomicUsize) {
    let mut connection = None;
    let mut mine = Vec::new();
    loop {
        let i = load.next.fetch_add(1, Ordering::Relaxed);
        let Some(due) = load.schedule.get(i).map(|at| start + *at) else {
            break;
        };
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            thread::sleep(wait);
        }
        let lateness = due.elapsed();
        let answered = match &mut connection {
            Some(stream) => exchange(stream, &load.request),
            None => Err(io::Error::other("not connected")),
        };
        let answered = answered.or_else(|_| {
            // (Re)connect once: a fresh connection, or one the server closed.
            let stream = connect(&load.addr)?;
            let stream = connection.insert(stream);
            exchange(stream, &load.request)
        });
        match answered {
            Ok(200) => mine.push(Sample {
                latency: due.elapsed(),
                lateness,
            }),
            _ => {
                failures.fetch_add(1, Ordering::Relaxed);
                connection = None;
            }
        }
    }
    if let Ok(mut all) = samples.lock() {
        all.extend(mine);
    }
}

fn connect(addr: &str) -> io::Result<BufReader<TcpStream>> {
    let stream = TcpStream::connect(addr)?;
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    Ok(BufReader::new(stream))
}

/// Sends one request and reads its response; the response's status.
fn exchange(stream: &mut BufReader<TcpStream>, request: &[u8]) -> io::Result<u16> {
    stream.get_mut().write_all(request)?;
    let mut line = String::new();
    stream.read_line(&mut line)?;
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| io::Error::other(format!("not an HTTP response: {line:?}")))?;
    let mut length = None;
    loop {
        line.clear();
        if stream.read_line(&mut line)? == 0 {
            return Err(io::Error::other("connection closed in the headers"));
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse::<u64>().ok();
        }
    }
    let length = length.ok_or_else(|| io::Error::other("a response without Content-Length"))?;
    io::copy(&mut stream.by_ref().take(length), &mut io::sink())?;
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn arrivals_keep_the_mean_rate_in_order() {
        let schedule = poisson_schedule(1000.0, 20.0);
        let count = schedule.len() as f64;
        assert!((count - 20_000.0).abs() < 600.0, "{count} arrivals");
        assert!(schedule.windows(2).all(|w| w[0] <= w[1]));
        assert!(schedule.last().is_some_and(|at| at.as_secs_f64() < 20.0));
    }

    #[test]
    fn quantiles_take_the_nearest_rank() {
        let sorted: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(quantile_ms(&sorted, 0.5), 50.0);
        assert_eq!(quantile_ms(&sorted, 0.99), 99.0);
        assert_eq!(quantile_ms(&sorted, 1.0), 100.0);
        assert_eq!(quantile_ms(&sorted[..1], 0.99), 1.0);
        assert_eq!(quantile_ms(&[], 0.99), 0.0);
    }

    #[test]
    fn exchanges_requests_over_one_kept_connection() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr").to_string();
        let server = thread::spawn(move || {
            let (stream, _) = listener.accept().expect("accept");
            let mut reader = BufReader::new(stream);
            for status in ["200 OK", "403 Forbidden"] {
                let mut line = String::new();
                let mut length = 0;
                loop {
                    line.clear();
                    reader.read_line(&mut line).expect("request line");
                    if let Some(value) = line.strip_prefix("Content-Length: ") {
                        length = value.trim().parse().expect("length");
                    }
                    if line == "\r\n" {
                        break;
                    }
                }
                let mut body = vec![0; length];
                reader.read_exact(&mut body).expect("body");
                assert_eq!(body, b"{}");
                write!(
                    reader.get_mut(),
                    "HTTP/1.1 {status}\r\nContent-Length: 2\r\n\r\nok"
                )
                .expect("response");
            }
        });
        let mut stream = connect(&addr).expect("connect");
        let request = request(&addr, "/v1/admit", Some(b"{}"));
        assert_eq!(exchange(&mut stream, &request).expect("first"), 200);
        assert_eq!(exchange(&mut stream, &request).expect("second"), 403);
        server.join().expect("server");
    }
}
