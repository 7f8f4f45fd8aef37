//! `satchel-tcp-forward UPSTREAM`: forwards a free loopback port to UPSTREAM and prints
//! `listening on ADDR`. Runs inside a test network namespace, so the core (which talks plain
//! HTTP to loopback only) reaches a server across the namespace's shaped veth link.

use anyhow::{Context, Result};
use satchel_tests::fault_proxy::{FaultProxy, Faults};

fn main() -> Result<()> {
    let upstream = std::env::args().nth(1).context("usage: satchel-tcp-forward UPSTREAM")?.parse()?;
    let proxy = FaultProxy::start(upstream, Faults::default())?;
    println!("listening on {}", proxy.addr);
    loop {
        std::thread::park();
    }
}
