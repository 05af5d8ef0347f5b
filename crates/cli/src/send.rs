//! `pushdesk send`: broadcasts one notification and exits once the hub took it.

use std::time::Duration;

use anyhow::{Context as _, bail};
use pushdesk_hub_model::{Action, NotificationRequest, Urgency, events};
use pushdesk_socketio::{Payload, SocketEvent, Value};
use serde_json::Map;

use crate::connect::{ConnectArgs, wait_connected};

/// Flags of `pushdesk send`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    connect: ConnectArgs,
    /// Title of the notification.
    #[arg(long)]
    title: String,
    /// Body text.
    #[arg(long)]
    body: Option<String>,
    /// Tag: a notification with the same tag replaces the one on screen.
    #[arg(long)]
    tag: Option<String>,
    /// Icon URL (or a path the hub serves).
    #[arg(long)]
    icon: Option<String>,
    /// Link opened when the notification is clicked (http or https).
    #[arg(long)]
    url: Option<String>,
    /// Urgency: low, normal or critical.
    #[arg(long, default_value = "normal")]
    urgency: Urgency,
    /// Extra data: a JSON object.
    #[arg(long, value_name = "JSON")]
    data: Option<String>,
    /// A button, `ID=LABEL` (repeat for more, at most 4). The desktop app
    /// reports a press to the hub as `notification_clicked` with the ID.
    #[arg(long = "action", value_name = "ID=LABEL", value_parser = parse_action)]
    actions: Vec<Action>,
    /// The channel to publish to (default: `default`, what every seed client
    /// hears).
    #[arg(long, value_name = "NAME")]
    channel: Option<String>,
    /// How long to wait for the hub, in seconds.
    #[arg(long, default_value_t = 10.0, value_name = "SECONDS")]
    timeout: f64,
}

impl Args {
    fn request(&self) -> anyhow::Result<NotificationRequest> {
        let mut req = NotificationRequest::new(self.title.clone());
        req.body = self.body.clone();
        req.tag = self.tag.clone();
        req.icon = self.icon.clone();
        req.url = self.url.clone();
        req.urgency = self.urgency;
        req.actions = self.actions.clone();
        req.channel = self.channel.clone();
        if let Some(data) = &self.data {
            let v: Map<String, Value> =
                serde_json::from_str(data).context("--data must be a JSON object")?;
            req.data = Some(v);
        }
        req.validate()?;
        Ok(req)
    }
}

/// `ID=LABEL` as a button; both parts non-empty.
fn parse_action(text: &str) -> Result<Action, String> {
    match text.split_once('=') {
        Some((id, label)) if !id.is_empty() && !label.is_empty() => Ok(Action::new(id, label)),
        _ => Err(format!(
            "{text:?} is not ID=LABEL (for example approve=Approve)"
        )),
    }
}

/// Sends and waits for the hub's acknowledgement. A seed server (Flask) does
/// not acknowledge; its broadcast of our notification back to us counts.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let request = args.request()?;
    let timeout = Duration::from_secs_f64(args.timeout.clamp(0.1, 3600.0));
    let (client, socket, mut events) = args.connect.connect_once(timeout)?;
    let result = tokio::time::timeout(timeout, async {
        wait_connected(&mut events, &client, &args.connect.server).await?;
        let payload = Payload::json(&request)?;
        let ack = socket.emit_with_ack(events::SEND_NOTIFICATION_REQUEST, payload, timeout);
        tokio::pin!(ack);
        loop {
            tokio::select! {
                answer = &mut ack => return match answer {
                    Ok(reply) => match reply.first().map(|v| (v.get("ok").and_then(Value::as_bool), v)) {
                        Some((Some(true), v)) => Ok(v.get("id").and_then(Value::as_u64)),
                        Some((Some(false), v)) => bail!("the hub rejected the notification: {}", v.get("error").and_then(Value::as_str).unwrap_or("no reason given")),
                        _ => Ok(None),
                    },
                    Err(e) => bail!("no acknowledgement from the hub: {e}"),
                },
                event = events.next() => match event {
                    Some(SocketEvent::Event(ev)) if ev.name == events::SEND_NOTIFICATION
                        && ev.payload.first().and_then(|n| n.get("title")).and_then(Value::as_str) == Some(request.title()) => {
                        // Our own broadcast came back: the hub has it. Give an ack a moment.
                        tokio::select! {
                            answer = &mut ack => if let Ok(reply) = answer {
                                return Ok(reply.first().and_then(|v| v.get("id")).and_then(Value::as_u64));
                            },
                            () = tokio::time::sleep(Duration::from_millis(500)) => {}
                        }
                        return Ok(None);
                    }
                    Some(_) => {}
                    None => bail!("connection closed before the hub acknowledged"),
                },
            }
        }
    })
    .await;
    client.disconnect().await;
    match result {
        Ok(Ok(Some(id))) => println!("sent: id {id}"),
        Ok(Ok(None)) => println!("sent"),
        Ok(Err(e)) => return Err(e),
        Err(_) => bail!(
            "timed out after {:?} talking to {}",
            timeout,
            args.connect.server
        ),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_are_id_equals_label() {
        assert_eq!(
            parse_action("approve=Approve it"),
            Ok(Action::new("approve", "Approve it"))
        );
        assert_eq!(parse_action("a=b=c"), Ok(Action::new("a", "b=c")));
        for bad in ["approve", "=Approve", "approve=", ""] {
            assert!(parse_action(bad).is_err(), "{bad:?}");
        }
    }
}
