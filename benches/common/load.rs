//! The load generator's loops: sequential requests interleaved between the upstream and a
//! proxy, many connections on one thread, and one SSE stream read as it arrives. Every loop
//! stops at a count or a deadline, whichever comes first.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::http::{post, AsyncConn, Conn};
use super::stats::{Samples, Summary};
use super::upstream::SseDelays;

/// One keep-alive connection that reconnects when the server ends it, as clients do.
pub struct Client {
    name: &'static str,
    addr: SocketAddr,
    conn: Conn,
    failures: u32,
}

impl Client {
    pub fn new(name: &'static str, addr: SocketAddr) -> Self {
        Self {
            name,
            addr,
            conn: Conn::connect(addr).expect("connect"),
            failures: 0,
        }
    }

    /// The time `request` took, or `None` if it failed (the connection is then renewed).
    pub fn timed(&mut self, request: &[u8]) -> Option<Duration> {
        let t = Instant::now();
        let reply = self.conn.request(request);
        let took = t.elapsed();
        match reply {
            Ok(r) if r.status == 200 => Some(took),
            other => {
                self.failures += 1;
                assert!(
                    self.failures <= 100,
                    "{}: requests keep failing: {other:?}",
                    self.name
                );
                if self.failures == 1 {
                    crate::progress!("{}: reconnecting after {other:?}", self.name);
                }
                self.conn = Conn::connect(self.addr).expect("reconnect");
                None
            }
        }
    }
}

/// Sequential requests alternating between the upstream directly and `target` (which goes
/// first swaps every pair), so both see the machine in the same state: `warmup` pairs
/// unmeasured, then up to `count` pairs or until `limit`. Returns (direct, target, requests
/// sent to the target).
pub fn paired(
    direct: SocketAddr,
    target: (&'static str, SocketAddr),
    path: &str,
    body: &[u8],
    warmup: usize,
    count: usize,
    limit: Duration,
) -> (Summary, Summary, u64) {
    let direct_request = post(direct, path, "application/json", body);
    let target_request = post(target.1, path, "application/json", body);
    let mut a = Client::new("direct", direct);
    let mut b = Client::new(target.0, target.1);
    let mut sa = Samples::with_capacity(count);
    let mut sb = Samples::with_capacity(count);
    let started = Instant::now();
    let deadline = started + limit;
    // Warm-up is bounded in time too, so a slow peer still gets measured pairs.
    let warm_until = started + limit / 5;
    let mut warmup = warmup;
    let mut pairs = 0;
    let mut sent = 0;
    while pairs < warmup + count && Instant::now() < deadline {
        if pairs < warmup && Instant::now() > warm_until {
            warmup = pairs;
        }
        let (ta, tb) = if pairs % 2 == 0 {
            let ta = a.timed(&direct_request);
            (ta, b.timed(&target_request))
        } else {
            let tb = b.timed(&target_request);
            (a.timed(&direct_request), tb)
        };
        sent += 1;
        if let (Some(ta), Some(tb)) = (ta, tb) {
            if pairs >= warmup {
                sa.push(ta);
                sb.push(tb);
            }
            pairs += 1;
        }
    }
    (sa.summary(), sb.summary(), sent)
}

/// What [`load`] measured: the latencies of the requests inside the measuring window, and
/// every request sent (warm-up included) and how many failed.
pub struct Loaded {
    pub samples: Samples,
    pub sent: u64,
    pub errors: u64,
}

/// `connections` keep-alive connections on one thread, each sending as fast as replies come.
pub fn load(
    addr: SocketAddr,
    request: Vec<u8>,
    connections: usize,
    warmup: Duration,
    measure: Duration,
) -> Loaded {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("load runtime");
    runtime.block_on(async move {
        let request = std::sync::Arc::new(request);
        let start = Instant::now();
        let measure_from = start + warmup;
        let end = measure_from + measure;
        let mut tasks = Vec::new();
        for _ in 0..connections {
            let request = request.clone();
            tasks.push(tokio::spawn(async move {
                let mut samples = Samples::with_capacity(100_000);
                let mut sent = 0u64;
                let mut errors = 0u64;
                let mut conn = None;
                while Instant::now() < end {
                    if conn.is_none() {
                        conn = AsyncConn::connect(addr).await.ok();
                        if conn.is_none() {
                            errors += 1;
                            tokio::time::sleep(Duration::from_millis(10)).await;
                            continue;
                        }
                    }
                    let c = conn.as_mut().expect("connected");
                    let t = Instant::now();
                    let reply = c.request(&request).await;
                    let done = Instant::now();
                    sent += 1;
                    match reply {
                        Ok(r) if r.status == 200 => {
                            if t >= measure_from && done <= end {
                                samples.push(done - t);
                            }
                        }
                        _ => {
                            errors += 1;
                            conn = None;
                        }
                    }
                }
                (samples, sent, errors)
            }));
        }
        let mut all = Samples::with_capacity(1_000_000);
        let mut sent = 0;
        let mut errors = 0;
        for task in tasks {
            let (samples, s, e) = task.await.expect("load task");
            sent += s;
            errors += e;
            all.extend(&samples);
        }
        Loaded {
            samples: all,
            sent,
            errors,
        }
    })
}

/// One stream: per-event delays from the upstream's write to this read.
pub fn stream(addr: SocketAddr, path: &str) -> Result<SseDelays, String> {
    let body = br#"{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"write a haiku"}]}"#;
    let request = post(addr, path, "application/json", body);
    let mut conn = Conn::connect(addr).map_err(|e| e.to_string())?;
    let mut delays = SseDelays::default();
    let reply = conn.request_with(&request, |bytes| delays.push(bytes, super::now_ns()));
    match reply {
        Ok(r) if r.status == 200 => Ok(delays),
        other => Err(format!("{other:?}")),
    }
}
