//! One push round: freeze the next batch (numbering it), send it, settle each op's result.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use satchel_protocol::Hlc;
use satchel_protocol::messages::{MAX_PUSH_BYTES, Op, Outcome, PROTOCOL_VERSION, PushRequest, PushResponse};

use super::engine::Engine;
use super::transport::Transport;
use super::{SyncError, local, rejected, state};
use crate::downloads::NetworkType;
use crate::error::{Error, Result};
use crate::outbox::{self, OutboxEntry, Priority};
use crate::time::now_ms;

pub(crate) enum Round {
    /// A batch went through: this many ops acknowledged (applied or duplicate) and rejected.
    Sent { acknowledged: u32, rejected: u32 },
    /// Nothing (allowed) is left to send.
    Empty,
    /// The next batch would go over the learner's metered budget.
    OverBudget,
}

pub(crate) async fn round<T: Transport>(
    engine: &Engine<T>,
    token: &str,
    batch: u32,
    max_priority: Priority,
    budget: Option<u64>,
    network: NetworkType,
    bytes: &AtomicU64,
) -> Result<Round> {
    // Freezing and numbering happen in one transaction; what is already frozen goes first,
    // unchanged, so a batch interrupted by a kill or a lost reply is resent identically.
    let entries = engine
        .write(move |tx| {
            let frozen = outbox::frozen(tx, batch)?;
            let room = batch.saturating_sub(frozen.len() as u32);
            if room > 0 {
                let current = state::load(tx)?;
                let last = outbox::freeze(tx, current.last_seq, room, max_priority)?;
                if last != current.last_seq {
                    state::set_last_seq(tx, last)?;
                    return outbox::frozen(tx, batch);
                }
            }
            Ok(frozen)
        })
        .await?;
    if entries.is_empty() {
        return Ok(Round::Empty);
    }
    let epoch = engine.read(|c| Ok(state::load(c)?.epoch)).await?;
    let request = PushRequest {
        protocol: PROTOCOL_VERSION,
        device_id: engine.device_id.to_string(),
        epoch,
        ops: ops(&entries)?,
    };
    let size = serde_json::to_vec(&request).map_err(|e| Error::Internal(e.to_string()))?.len();
    if size > MAX_PUSH_BYTES && entries.len() > 1 {
        // Records are bounded well below the limit, so this needs a batch of huge notes.
        return Err(SyncError::Internal(format!("a push of {} ops is {size} bytes", entries.len())).into());
    }
    if budget.is_some_and(|left| (size as u64) > left) {
        return Ok(Round::OverBudget);
    }
    let response = engine.transport.push(token, &request, bytes).await;
    // On the meter before the transaction below flushes it.
    engine.count_bytes(network, bytes);
    let response = response?;
    check_response(&request, &response)?;
    let device = Arc::clone(&engine.device_id);
    let downloads = Arc::clone(&engine.downloads);
    let counts = engine
        .write(move |tx| {
            let counts = settle(tx, &device, &entries, &response)?;
            downloads.meter().flush(tx, now_ms())?;
            Ok(counts)
        })
        .await?;
    Ok(Round::Sent { acknowledged: counts.0, rejected: counts.1 })
}

fn ops(entries: &[OutboxEntry]) -> Result<Vec<Op>> {
    let mut ops = Vec::with_capacity(entries.len());
    for entry in entries {
        let seq = entry.device_seq.ok_or_else(|| Error::Internal("an unfrozen entry in a batch".into()))?;
        if let Some(previous) = ops.last().map(|op: &Op| op.seq)
            && seq != previous + 1
        {
            return Err(Error::Internal(format!("frozen outbox entries skip from {previous} to {seq}")));
        }
        ops.push(Op { op_id: entry.op_id.clone(), seq, record: local::parse(&entry.change)? });
    }
    Ok(ops)
}

/// The reply must answer this request: results for a prefix of its ops, in order.
fn check_response(request: &PushRequest, response: &PushResponse) -> Result<(), SyncError> {
    if response.protocol != PROTOCOL_VERSION {
        return Err(SyncError::Malformed(format!("protocol {} in the reply", response.protocol)));
    }
    if response.results.len() > request.ops.len() {
        return Err(SyncError::Malformed("more results than ops".into()));
    }
    for (result, op) in response.results.iter().zip(&request.ops) {
        if result.seq != op.seq {
            return Err(SyncError::Malformed(format!(
                "result for seq {} where {} was sent",
                result.seq, op.seq
            )));
        }
    }
    Ok(())
}

/// Applies the results in one transaction: acknowledged ops leave the outbox, rejected ones move
/// to the rejected list, clamped records are clamped here too. Returns (acknowledged, rejected).
fn settle(
    tx: &rusqlite::Transaction<'_>,
    device_id: &str,
    entries: &[OutboxEntry],
    response: &PushResponse,
) -> Result<(u32, u32)> {
    state::set_epoch(tx, &response.epoch)?;
    let mut acknowledged = 0;
    let mut refused = 0;
    for (result, entry) in response.results.iter().zip(entries) {
        match &result.outcome {
            Outcome::Applied | Outcome::Duplicate => acknowledged += 1,
            Outcome::Rejected { code, reason } => {
                rejected::add(tx, entry, result.seq, *code, reason)?;
                refused += 1;
            }
        }
        if let Some(limit) = result.clamped_to {
            clamp_local(tx, device_id, entry, limit)?;
        }
        outbox::remove_frozen(tx, result.seq)?;
    }
    // Ops the server reports applied but did not answer for (a reply cut to a prefix) are
    // acknowledged all the same.
    for entry in entries.iter().skip(response.results.len()) {
        match entry.device_seq {
            Some(seq) if seq <= response.applied_through => {
                outbox::remove_frozen(tx, seq)?;
                acknowledged += 1;
            }
            _ => break,
        }
    }
    outbox::note_attempt(tx, u64::MAX, None)?;
    Ok((acknowledged, refused))
}

/// The server lowered the record's future stamps to `limit`: do the same to the local record
/// (so both hold one state) and keep the clock above what it now holds.
fn clamp_local(
    tx: &rusqlite::Transaction<'_>,
    device_id: &str,
    entry: &OutboxEntry,
    limit: i64,
) -> Result<()> {
    let Some(kind) = local::kind_from_str(&entry.entity_kind) else { return Ok(()) };
    let Some(mut record) = local::load(tx, kind, &entry.entity_id)? else { return Ok(()) };
    let previous = record.clone();
    if record.clamp(limit) {
        local::save(tx, &record)?;
        super::apply::materialise(tx, device_id, Some(&previous), &record)?;
    }
    raise_clock(tx, device_id, record.max_hlc())
}

pub(crate) fn raise_clock(tx: &rusqlite::Transaction<'_>, device_id: &str, seen: Option<&Hlc>) -> Result<()> {
    if let Some(seen) = seen {
        let last = outbox::last_stamp(tx)?;
        let next = Hlc::receive(last.as_ref(), seen, crate::store::clock::now_ms(tx)?, device_id);
        outbox::set_last_stamp(tx, &next)?;
    }
    Ok(())
}
