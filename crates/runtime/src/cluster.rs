//! Multi-process runs: forming the TCP mesh ourselves, with a handshake and deadlines, and the
//! fail-stop guards timely lacks (a progress watchdog and a peer-failure panic hook).
//!
//! Mesh: every process binds its listener first (a hostfile address, or `127.0.0.1:0` published
//! into a rendezvous directory as `g<generation>-p<index>.addr`), then connects to every lower
//! index and accepts every higher one. The connector sends `(MAGIC, run id, generation, index)`;
//! the acceptor answers `OK` or `REFUSED`, so a stray process of another run or a stale process
//! of an earlier generation is turned away (and the acceptor keeps waiting for the right one).
//! Everything happens before a deadline; nothing waits forever.

use crate::RuntimeError;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

const MAGIC: u64 = 0x6d69_7272_6f72_666c; // "mirrorfl"
const OK: u64 = 1;
const REFUSED: u64 = 2;

/// Exit code when the progress watchdog fires.
pub const EXIT_WATCHDOG: i32 = 3;
/// Exit code when the mesh could not be formed before the deadline.
pub const EXIT_RENDEZVOUS: i32 = 4;
/// Exit code when a peer process failed (its connection broke).
pub const EXIT_PEER_FAILED: i32 = 5;

/// Where the peers' addresses come from.
#[derive(Clone, Debug)]
pub enum Peers {
    /// One `host:port` per process, in process order (the same file on every node).
    Hostfile(Vec<String>),
    /// A shared directory: each process binds `127.0.0.1:0` and publishes its address there.
    Rendezvous(PathBuf),
}

/// This process's place in a cluster.
#[derive(Clone, Debug)]
pub struct ClusterSpec {
    /// Number of processes.
    pub processes: usize,
    /// This process's index.
    pub process_id: usize,
    /// Worker threads per process.
    pub threads: usize,
    /// Peer addresses.
    pub peers: Peers,
    /// Identifies the run (same on every process; a hash of the resolved config).
    pub run_id: u64,
    /// Incremented by the launcher at every restart of the whole cluster.
    pub generation: u64,
    /// How long to wait for the mesh.
    pub rendezvous_timeout: Duration,
}

fn mesh_err(msg: String) -> RuntimeError {
    RuntimeError::Rendezvous(msg)
}

fn write_u64s(s: &mut TcpStream, xs: &[u64]) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(xs.len() * 8);
    for x in xs {
        buf.extend_from_slice(&x.to_le_bytes());
    }
    s.write_all(&buf)
}

fn read_u64s<const N: usize>(s: &mut TcpStream) -> std::io::Result<[u64; N]> {
    let mut out = [0u64; N];
    for o in out.iter_mut() {
        let mut b = [0u8; 8];
        s.read_exact(&mut b)?;
        *o = u64::from_le_bytes(b);
    }
    Ok(out)
}

/// Forms the mesh: `sockets[j]` is the connection to process `j`, `None` at our own index.
pub fn form_mesh(spec: &ClusterSpec) -> Result<Vec<Option<TcpStream>>, RuntimeError> {
    let (n, me) = (spec.processes, spec.process_id);
    if me >= n {
        return Err(mesh_err(format!(
            "process id {me} is not below the process count {n}"
        )));
    }
    let deadline = Instant::now() + spec.rendezvous_timeout;
    let listener = match &spec.peers {
        Peers::Hostfile(addrs) => {
            if addrs.len() != n {
                return Err(mesh_err(format!(
                    "the hostfile lists {} addresses for {n} processes",
                    addrs.len()
                )));
            }
            TcpListener::bind(&addrs[me]).map_err(|e| {
                mesh_err(format!(
                    "cannot listen on {} (hostfile line {}): {e}",
                    addrs[me],
                    me + 1
                ))
            })?
        }
        Peers::Rendezvous(dir) => {
            let l = TcpListener::bind("127.0.0.1:0")
                .map_err(|e| mesh_err(format!("cannot listen on 127.0.0.1: {e}")))?;
            let addr = l.local_addr().map_err(|e| mesh_err(e.to_string()))?;
            let path = dir.join(format!("g{}-p{me}.addr", spec.generation));
            let tmp = dir.join(format!(".g{}-p{me}.addr.tmp", spec.generation));
            std::fs::write(&tmp, addr.to_string())
                .and_then(|_| std::fs::rename(&tmp, &path))
                .map_err(|e| {
                    mesh_err(format!(
                        "cannot publish our address in {}: {e}",
                        dir.display()
                    ))
                })?;
            l
        }
    };
    // Addresses of the lower-indexed processes we dial.
    let mut addrs: Vec<Option<SocketAddr>> = vec![None; n];
    for j in 0..me {
        addrs[j] = Some(loop {
            let found = match &spec.peers {
                Peers::Hostfile(a) => a[j].to_socket_addrs().ok().and_then(|mut it| it.next()),
                Peers::Rendezvous(dir) => {
                    std::fs::read_to_string(dir.join(format!("g{}-p{j}.addr", spec.generation)))
                        .ok()
                        .and_then(|s| s.trim().parse().ok())
                }
            };
            if let Some(a) = found {
                break a;
            }
            if Instant::now() > deadline {
                return Err(mesh_err(format!(
                    "rendezvous deadline ({:?}) passed: process {j} never published its address",
                    spec.rendezvous_timeout
                )));
            }
            std::thread::sleep(Duration::from_millis(20));
        });
    }
    let mut sockets: Vec<Option<TcpStream>> = (0..n).map(|_| None).collect();
    for j in 0..me {
        let addr = addrs[j].ok_or_else(|| mesh_err(format!("no address for process {j}")))?;
        let mut s = loop {
            match TcpStream::connect_timeout(&addr, Duration::from_secs(1)) {
                Ok(s) => break s,
                Err(e) if Instant::now() > deadline => {
                    return Err(mesh_err(format!(
                        "rendezvous deadline passed: cannot connect to process {j} at {addr}: {e}"
                    )));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        };
        s.set_read_timeout(Some(Duration::from_secs(10))).ok();
        write_u64s(&mut s, &[MAGIC, spec.run_id, spec.generation, me as u64])
            .map_err(|e| mesh_err(format!("handshake with process {j} failed: {e}")))?;
        let [magic, status] = read_u64s::<2>(&mut s)
            .map_err(|e| mesh_err(format!("handshake with process {j} failed: {e}")))?;
        if magic != MAGIC || status != OK {
            return Err(mesh_err(format!(
                "process {j} at {addr} refused us (different run id or generation: a stale or stray process?)"
            )));
        }
        sockets[j] = Some(s);
    }
    listener
        .set_nonblocking(true)
        .map_err(|e| mesh_err(e.to_string()))?;
    while (me + 1..n).any(|j| sockets[j].is_none()) {
        match listener.accept() {
            Ok((mut s, from)) => {
                s.set_nonblocking(false).ok();
                s.set_read_timeout(Some(Duration::from_secs(5))).ok();
                let hello = read_u64s::<4>(&mut s);
                let ok = match hello {
                    Ok([magic, run, generation, j]) => {
                        let j = j as usize;
                        let good = magic == MAGIC
                            && run == spec.run_id
                            && generation == spec.generation
                            && j > me
                            && j < n
                            && sockets[j].is_none();
                        if !good {
                            eprintln!(
                                "process {me}: refused a connection from {from} (run id {run:x} vs ours {:x}, generation {generation} vs ours {}, index {j})",
                                spec.run_id, spec.generation
                            );
                        }
                        good.then_some(j)
                    }
                    Err(_) => None,
                };
                match ok {
                    Some(j) => {
                        write_u64s(&mut s, &[MAGIC, OK]).map_err(|e| {
                            mesh_err(format!("handshake with process {j} failed: {e}"))
                        })?;
                        sockets[j] = Some(s);
                    }
                    None => {
                        let _ = write_u64s(&mut s, &[MAGIC, REFUSED]);
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if Instant::now() > deadline {
                    let missing: Vec<usize> =
                        (me + 1..n).filter(|&j| sockets[j].is_none()).collect();
                    return Err(mesh_err(format!(
                        "rendezvous deadline ({:?}) passed: process(es) {missing:?} never connected",
                        spec.rendezvous_timeout
                    )));
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => return Err(mesh_err(format!("accepting peers failed: {e}"))),
        }
    }
    for s in sockets.iter().flatten() {
        s.set_read_timeout(None).ok();
        s.set_nodelay(true).ok();
    }
    Ok(sockets)
}

/// How long a process that lost a peer keeps its own connections open before exiting. The
/// process that really failed is then the first connection every survivor sees close, so each
/// names the same culprit rather than a peer that merely exited in the cascade.
const CASCADE_GRACE: Duration = Duration::from_millis(500);

/// Turns timely's communication panics ("timely communication error: …" on the thread
/// `timely:recv-J` / `timely:send-J`) into one clear message naming the failed peer and a
/// distinct exit code, instead of a cascade of panics.
pub fn install_peer_failure_hook(me: usize) {
    static REPORTED: AtomicBool = AtomicBool::new(false);
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        let thread = std::thread::current().name().unwrap_or("").to_string();
        let comm = thread.starts_with("timely:recv-") || thread.starts_with("timely:send-");
        if comm || msg.contains("timely communication error") || msg.contains("MergeQueue poisoned")
        {
            if REPORTED.swap(true, Ordering::SeqCst) {
                return; // the first report speaks for the whole process
            }
            let peer = thread
                .rsplit('-')
                .next()
                .and_then(|s| s.parse::<usize>().ok());
            match peer {
                Some(p) => eprintln!(
                    "error: peer process {p} failed (process {me} lost its connection: {msg}); stopping"
                ),
                None => eprintln!("error: a peer process failed (process {me}: {msg}); stopping"),
            }
            std::thread::sleep(CASCADE_GRACE);
            std::process::exit(EXIT_PEER_FAILED);
        }
        default(info);
    }));
}

/// Exits the process with [`EXIT_WATCHDOG`] when `progress` has not moved for `limit`.
/// Returns a flag that disarms it.
pub fn start_watchdog(me: usize, progress: Arc<AtomicU64>, limit: Duration) -> Arc<AtomicBool> {
    let done = Arc::new(AtomicBool::new(false));
    let d = done.clone();
    let _ = std::thread::Builder::new().name("mirrorflow:watchdog".into()).spawn(move || {
        let (mut last, mut since) = (progress.load(Ordering::Relaxed), Instant::now());
        while !d.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(100));
            let now = progress.load(Ordering::Relaxed);
            if now != last {
                (last, since) = (now, Instant::now());
            } else if since.elapsed() > limit && !d.load(Ordering::Relaxed) {
                eprintln!(
                    "error: no progress for {limit:?} in process {me}: a peer process is hung or stalled (watchdog); stopping"
                );
                std::process::exit(EXIT_WATCHDOG);
            }
        }
    });
    done
}
