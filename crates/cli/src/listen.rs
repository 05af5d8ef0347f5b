//! `pushdesk listen`: stays connected (reconnecting) and prints every event.

use std::io::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::bail;
use pushdesk_hub_model::{Notification, events};
use pushdesk_socketio::{ConnectionState, SocketEvent, Value};
use serde::Deserialize as _;
use serde_json::Map;
use tracing::{info, warn};

use crate::connect::{ConnectArgs, refusal_message};
use crate::notify::Desktop;
use crate::output;

/// Flags of `pushdesk listen`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    connect: ConnectArgs,
    /// Print exactly one JSON object per line: `{"event": NAME, "data": PAYLOAD}`.
    #[arg(long)]
    json: bool,
    /// First print every notification newer than this id (from the hub's
    /// history), then live ones. Without it, only new notifications.
    #[arg(long, value_name = "ID")]
    since: Option<u64>,
    /// Do not show native desktop notifications (only print). Without it,
    /// each new notification is also shown by the desktop's notification
    /// service (on Linux, org.freedesktop.Notifications on the session bus).
    #[arg(long)]
    no_notify: bool,
    /// Follow this channel (repeat for several; `*` for every channel the
    /// token may read). Default: `default`, the seed's only channel.
    #[arg(long = "channel", value_name = "NAME", value_parser = parse_subscription)]
    channels: Vec<String>,
    /// Exit (status 0) after printing this many notifications
    /// (`send_notification` events); without it, run until Ctrl-C.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    count: Option<u64>,
}

fn parse_subscription(name: &str) -> Result<String, String> {
    pushdesk_hub_model::channel::check_subscription(name)
        .map(|()| name.to_owned())
        .map_err(|e| e.to_string())
}

/// Runs until Ctrl-C, or until the hub refuses us for good.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let desktop = (!args.no_notify).then(|| Desktop::start(&args.connect.server));
    // The newest notification id seen: sent on every (re)connect so the hub
    // replays what was missed; 0 = none yet.
    let last_seen = Arc::new(AtomicU64::new(args.since.unwrap_or(0)));
    let have_baseline = Arc::new(AtomicBool::new(args.since.is_some()));
    // The hub's history epoch those ids belong to (its `welcome.epoch`).
    let epoch: Arc<Mutex<Option<String>>> = Arc::default();
    let token = args.connect.token.clone();
    let channels = args.channels.clone();
    let (seen, baseline, known_epoch) = (last_seen.clone(), have_baseline.clone(), epoch.clone());
    let builder = args.connect.builder()?.auth_fn(move || {
        let mut auth = Map::new();
        if let Some(t) = &token {
            auth.insert("token".into(), Value::String(t.clone()));
        }
        if !channels.is_empty() {
            auth.insert("channels".into(), Value::from(channels.clone()));
        }
        if baseline.load(Ordering::Acquire) {
            auth.insert("last_id".into(), Value::from(seen.load(Ordering::Acquire)));
            let known = known_epoch.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(epoch) = known.as_ref() {
                auth.insert("epoch".into(), Value::from(epoch.as_str()));
            }
        }
        Value::Object(auth)
    });
    let (client, _socket, mut events) = builder.connect()?;
    let mut states = client.watch_state();
    let mut printer = Printer {
        out: Vec::with_capacity(WRITE_CHUNK),
        json: args.json,
        left: args.count,
        desktop,
        last_seen,
        have_baseline,
        epoch,
    };
    loop {
        tokio::select! {
            event = events.next() => {
                let Some(event) = event else { break };
                // This event and every one already waiting: gathered into
                // one write and one flush, done before waiting again, so a
                // reader of the pipe never waits on a buffered line.
                let mut next = Some(event);
                let mut taken = Ok(false);
                let mut closed = false;
                while let Some(event) = next.take() {
                    taken = printer.take(event);
                    if !matches!(taken, Ok(false)) {
                        break;
                    }
                    if printer.out.len() >= WRITE_CHUNK && printer.flush().is_err() {
                        closed = true;
                        break;
                    }
                    next = events.try_next();
                }
                closed |= printer.flush().is_err();
                if taken? {
                    client.disconnect().await;
                    break;
                }
                if closed {
                    // stdout closed (e.g. piped into `head`): nothing left to do.
                    break;
                }
            }
            changed = states.changed() => {
                if changed.is_err() { break; }
                let state = states.borrow_and_update().clone();
                info!(%state, "connection");
                if let ConnectionState::Disconnected { reason } = state {
                    // What the namespace reported last explains it best (a refusal, say).
                    while let Some(event) = events.try_next() {
                        if let Err(e) = printer.print(event) {
                            let _ = printer.flush();
                            return Err(e);
                        }
                    }
                    let _ = printer.flush();
                    bail!("disconnected: {reason}");
                }
            }
            _ = tokio::signal::ctrl_c() => {
                client.disconnect().await;
                break;
            }
        }
    }
    Ok(())
}

/// The notification a `send_notification` event carries (if it decodes).
fn notification_of(event: &SocketEvent) -> Option<Notification> {
    let SocketEvent::Event(ev) = event else {
        return None;
    };
    if ev.name != events::SEND_NOTIFICATION {
        return None;
    }
    match Notification::deserialize(ev.payload.first()?) {
        Ok(notification) => Some(notification),
        Err(e) => {
            warn!("a send_notification that does not decode is only printed: {e}");
            None
        }
    }
}

/// Follows notification ids; false for a notification already seen (a
/// replay overlapping what arrived live), which is then not printed. A
/// `welcome` from a hub whose history started over (another epoch, or its
/// last id below ours) resets the ids seen, so its new ones are printed.
fn track(
    event: &SocketEvent,
    last_seen: &AtomicU64,
    have_baseline: &AtomicBool,
    epoch: &Mutex<Option<String>>,
) -> bool {
    let SocketEvent::Event(ev) = event else {
        return true;
    };
    let first = ev.payload.first();
    if ev.name == "welcome" {
        let theirs = first
            .and_then(|v| v.get("epoch"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let mut ours = epoch.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(id) = first.and_then(|v| v.get("last_id")).and_then(Value::as_u64) {
            if !have_baseline.swap(true, Ordering::AcqRel) {
                last_seen.store(id, Ordering::Release);
            } else if ours.is_some() && theirs.is_some() && *ours != theirs {
                // We sent our epoch: the hub replays its new history from the start.
                info!("the hub's history started over (new epoch); following it from the start");
                last_seen.store(0, Ordering::Release);
            } else if id < last_seen.load(Ordering::Acquire) {
                info!(
                    last_id = id,
                    "the hub's ids went back (its data was reset?); following them from here"
                );
                last_seen.store(id, Ordering::Release);
            }
        }
        if theirs.is_some() {
            *ours = theirs;
        }
        return true;
    }
    if ev.name != events::SEND_NOTIFICATION {
        return true;
    }
    let Some(id) = first.and_then(|v| v.get("id")).and_then(Value::as_u64) else {
        return true;
    };
    have_baseline.store(true, Ordering::Release);
    last_seen.fetch_max(id, Ordering::AcqRel) < id
}

/// Output gathered before it is written even when more events wait.
const WRITE_CHUNK: usize = 64 * 1024;

/// What `listen` does with each event, and the output not yet written.
struct Printer {
    out: Vec<u8>,
    json: bool,
    /// Notifications still to print before exiting (`--count`).
    left: Option<u64>,
    desktop: Option<Desktop>,
    last_seen: Arc<AtomicU64>,
    have_baseline: Arc<AtomicBool>,
    epoch: Arc<Mutex<Option<String>>>,
}

impl Printer {
    /// Takes one event: follows ids, shows a new notification natively,
    /// appends the event's line. True once `--count` notifications are
    /// printed; an error for a refusal.
    fn take(&mut self, event: SocketEvent) -> anyhow::Result<bool> {
        if !track(&event, &self.last_seen, &self.have_baseline, &self.epoch) {
            return Ok(false);
        }
        if let Some(desktop) = &self.desktop
            && let Some(notification) = notification_of(&event)
        {
            desktop.show(notification);
        }
        let is_notification =
            matches!(&event, SocketEvent::Event(ev) if ev.name == events::SEND_NOTIFICATION);
        self.print(event)?;
        if is_notification && let Some(n) = &mut self.left {
            *n = n.saturating_sub(1);
            return Ok(*n == 0);
        }
        Ok(false)
    }

    /// Appends what one namespace event prints (if anything); a refusal is an error.
    fn print(&mut self, event: SocketEvent) -> anyhow::Result<()> {
        match event {
            SocketEvent::Event(ev) => {
                output::write_line(&mut self.out, &ev.name, &ev.payload, self.json);
            }
            SocketEvent::Connected { sid, recovered } => {
                info!(%sid, recovered, "namespace connected");
            }
            SocketEvent::ConnectError(data) => {
                bail!("the hub refused the connection: {}", refusal_message(&data))
            }
            SocketEvent::Disconnected(reason) => info!(%reason, "namespace disconnected"),
        }
        Ok(())
    }

    /// Writes and flushes what is gathered (whole lines only).
    fn flush(&mut self) -> std::io::Result<()> {
        if self.out.is_empty() {
            return Ok(());
        }
        let mut stdout = std::io::stdout().lock();
        let written = stdout.write_all(&self.out).and_then(|()| stdout.flush());
        self.out.clear();
        written
    }
}
