//! A reference server for latency benchmarks: it answers every request (any method, any path)
//! with `200 {}` after reading the body and spending a fixed CPU time on the thread that
//! serves it, and does nothing else. It runs on the gateway's stack (a multi-threaded tokio
//! runtime, one worker per core, hyper's HTTP/1.1 and HTTP/2 server), so its latency under a
//! load is what queueing and this machine's scheduling give any server of that CPU cost per
//! request: a floor to read the gateway's latency against (`bench/gatekeeper.sh`).
//!
//! Usage: `burnserver ADDR CPU_MICROS` (ready when it prints `listening on ADDR`).

use std::convert::Infallible;
use std::process::ExitCode;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(addr), Some(micros)) = (
        args.first(),
        args.get(1).and_then(|m| m.parse::<u64>().ok()),
    ) else {
        eprintln!("usage: burnserver ADDR CPU_MICROS");
        return ExitCode::from(2);
    };
    let cost = Duration::from_micros(micros);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("burnserver: {e}");
            return ExitCode::FAILURE;
        }
    };
    let served = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        println!("listening on {}", listener.local_addr()?);
        serve(listener, cost).await
    });
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("burnserver: {addr}: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(listener: tokio::net::TcpListener, cost: Duration) -> std::io::Result<()> {
    let builder = auto::Builder::new(TokioExecutor::new());
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            // Out of descriptors, say: wait rather than spin, then go on serving.
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let service = service_fn(move |request: Request<Incoming>| answer(request, cost));
        let connection = builder
            .serve_connection(TokioIo::new(stream), service)
            .into_owned();
        tokio::spawn(connection);
    }
}

async fn answer(
    request: Request<Incoming>,
    cost: Duration,
) -> Result<Response<Full<Bytes>>, Infallible> {
    // The whole body is read, as a server that parses it would.
    let _ = request.into_body().collect().await;
    burn(cost);
    Ok(Response::new(Full::new(Bytes::from_static(b"{}"))))
}

/// Keeps this thread computing until it has used `cost` of CPU time since the call. CPU time,
/// not wall time: time spent waiting for a core is not counted, as it is not in a review.
fn burn(cost: Duration) {
    let until = thread_cpu_time() + cost;
    let mut state = 1u64;
    while thread_cpu_time() < until {
        for _ in 0..256 {
            state = std::hint::black_box(state.wrapping_mul(6_364_136_223_846_793_005) | 1);
        }
    }
}

fn thread_cpu_time() -> Duration {
    let now = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(
        u64::try_from(now.tv_sec).unwrap_or(0),
        u32::try_from(now.tv_nsec).unwrap_or(0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burning_uses_the_cpu_time_asked_for() {
        let started = thread_cpu_time();
        burn(Duration::from_millis(20));
        let used = thread_cpu_time() - started;
        assert!(used >= Duration::from_millis(20), "used {used:?}");
        // Not much more: the loop reads the clock every few microseconds.
        assert!(used < Duration::from_millis(200), "used {used:?}");
    }

    #[test]
    fn answers_every_request_over_a_kept_connection() {
        use std::io::{BufRead, BufReader, Read, Write};
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bound");
        let addr = listener.local_addr().expect("address");
        runtime.spawn(serve(listener, Duration::from_millis(2)));
        let stream = std::net::TcpStream::connect(addr).expect("connected");
        let mut reader = BufReader::new(stream.try_clone().expect("clone"));
        let mut writer = stream;
        for body in ["{\"a\":1}", ""] {
            write!(
                writer,
                "POST /any/path HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
            .expect("sent");
            let mut status = String::new();
            reader.read_line(&mut status).expect("status line");
            assert!(status.starts_with("HTTP/1.1 200"), "{status}");
            let mut length = 0;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).expect("header");
                if line == "\r\n" {
                    break;
                }
                if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = value.trim().parse().expect("length");
                }
            }
            let mut answer = vec![0; length];
            reader.read_exact(&mut answer).expect("body");
            assert_eq!(answer, b"{}");
        }
    }

    #[test]
    fn waiting_is_not_burning() {
        let started = thread_cpu_time();
        std::thread::sleep(Duration::from_millis(30));
        assert!(thread_cpu_time() - started < Duration::from_millis(20));
    }
}
