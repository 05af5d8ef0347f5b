//! [`SyncMessage`]: the Yjs sync protocol (`y-protocols/sync`, as
//! y-websocket frames it), one message per `text_sync` event; and
//! [`answer`]: what a replica does with one.
//!
//! On connecting, each side sends [`SyncMessage::Step1`] (its state
//! vector); each answers the other's with [`SyncMessage::Step2`] (what the
//! other lacks). Afterwards each edit travels as
//! [`SyncMessage::Update`]. Awareness messages (carets, presence) are
//! carried as bytes.

use yrs::StateVector;
use yrs::sync::awareness::AwarenessUpdate;
use yrs::sync::{Message, SyncMessage as YSync};
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;

use crate::{SharedText, TextError};

/// One message of the sync protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncMessage {
    /// "This is what I have": a Yjs v1 state vector.
    Step1(Vec<u8>),
    /// "This is what you lack": a Yjs v1 update, the answer to a step 1.
    Step2(Vec<u8>),
    /// An edit: a Yjs v1 update.
    Update(Vec<u8>),
    /// A Yjs awareness update (presence), as bytes.
    Awareness(Vec<u8>),
}

impl SyncMessage {
    /// Decodes one message; anything else (auth, custom types, trailing garbage
    /// inside a field) is an error, never a panic.
    pub fn decode(bytes: &[u8]) -> Result<Self, TextError> {
        let message =
            Message::decode_v1(bytes).map_err(|e| TextError::malformed("sync message", e))?;
        match message {
            Message::Sync(YSync::SyncStep1(sv)) => Ok(Self::Step1(sv.encode_v1())),
            Message::Sync(YSync::SyncStep2(update)) => Ok(Self::Step2(update)),
            Message::Sync(YSync::Update(update)) => Ok(Self::Update(update)),
            Message::Awareness(update) => Ok(Self::Awareness(update.encode_v1())),
            other => Err(TextError::malformed(
                "sync message",
                format!("unsupported message {}", kind(&other)),
            )),
        }
    }

    /// Encodes the message as Yjs peers expect it.
    pub fn encode(&self) -> Result<Vec<u8>, TextError> {
        let message = match self {
            Self::Step1(sv) => Message::Sync(YSync::SyncStep1(
                StateVector::decode_v1(sv).map_err(|e| TextError::malformed("state vector", e))?,
            )),
            Self::Step2(update) => Message::Sync(YSync::SyncStep2(update.clone())),
            Self::Update(update) => Message::Sync(YSync::Update(update.clone())),
            Self::Awareness(update) => Message::Awareness(
                AwarenessUpdate::decode_v1(update)
                    .map_err(|e| TextError::malformed("awareness update", e))?,
            ),
        };
        Ok(message.encode_v1())
    }
}

fn kind(message: &Message) -> &'static str {
    match message {
        Message::Sync(_) => "sync",
        Message::Auth(_) => "auth",
        Message::AwarenessQuery => "awareness query",
        Message::Awareness(_) => "awareness",
        Message::Custom(..) => "custom",
    }
}

/// What a replica does after one message.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Answer {
    /// Encoded messages to send back to the peer, in order.
    pub replies: Vec<Vec<u8>>,
    /// The update the message brought, to pass on to the other peers
    /// (`None`: nothing new).
    pub update: Option<Vec<u8>>,
    /// Whether the text changed.
    pub changed: bool,
}

/// Handles one message from a peer on `doc`. `may_edit`: whether the peer
/// may change the document (a step 2 or an update from a peer that may not
/// is refused). Updates that would make the text longer than `max_bytes`
/// are refused and leave the document as it was. Awareness messages are
/// not handled here (the caller relays them).
pub fn answer(
    doc: &mut SharedText,
    message: &SyncMessage,
    may_edit: bool,
    max_bytes: usize,
) -> Result<Answer, Refused> {
    match message {
        SyncMessage::Step1(sv) => {
            let missing = doc.diff(sv).map_err(Refused::Bad)?;
            let reply = SyncMessage::Step2(missing).encode().map_err(Refused::Bad)?;
            Ok(Answer {
                replies: vec![reply],
                ..Answer::default()
            })
        }
        SyncMessage::Step2(update) | SyncMessage::Update(update) => {
            if !may_edit {
                // A reader's step 2 that brings nothing new (it has edited
                // nothing) is fine; anything else is an edit.
                let mut trial = doc.fork();
                let _ = trial.apply(update);
                if trial.state_vector() != doc.state_vector() || trial.text() != doc.text() {
                    return Err(Refused::NoRight);
                }
                return Ok(Answer::default());
            }
            let before = doc.state_vector();
            let changed = doc.apply_within(update, max_bytes).map_err(Refused::Bad)?;
            // An update that waits for one this replica lacks (a client that
            // moved from another node faster than the nodes synced) changes
            // nothing yet, but must still be passed on and stored.
            let grew = changed || doc.state_vector() != before || doc.has_missing_updates();
            Ok(Answer {
                replies: Vec::new(),
                update: grew.then(|| update.clone()),
                changed,
            })
        }
        SyncMessage::Awareness(_) => Ok(Answer::default()),
    }
}

/// Why [`answer`] refused a message.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// The peer may not change the text.
    #[error("this token may not change the shared text")]
    NoRight,
    /// The message or its update was refused.
    #[error(transparent)]
    Bad(TextError),
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: usize = 64 * 1024;

    /// Runs one message from `from` to `to`, returns the replies.
    fn deliver(to: &mut SharedText, bytes: &[u8]) -> Vec<Vec<u8>> {
        let message = SyncMessage::decode(bytes).expect("decodes");
        answer(to, &message, true, MAX).expect("accepted").replies
    }

    #[test]
    fn the_handshake_brings_both_sides_up_to_date() {
        let mut hub = SharedText::new();
        hub.set("from the hub");
        let mut client = SharedText::new();
        client.set("offline edit ");

        // Both open with step 1; each answers the other's with step 2.
        let from_client = SyncMessage::Step1(client.state_vector())
            .encode()
            .expect("encodes");
        let from_hub = SyncMessage::Step1(hub.state_vector())
            .encode()
            .expect("encodes");
        let to_client = deliver(&mut hub, &from_client);
        let to_hub = deliver(&mut client, &from_hub);
        assert_eq!((to_client.len(), to_hub.len()), (1, 1));
        assert!(deliver(&mut client, &to_client[0]).is_empty());
        assert!(deliver(&mut hub, &to_hub[0]).is_empty());
        assert_eq!(hub.text(), client.text());
        assert!(hub.text().contains("offline edit "));
        assert!(hub.text().contains("from the hub"));
    }

    #[test]
    fn round_trips_and_matches_y_protocols_framing() {
        // y-protocols: varUint(0 = sync) varUint(2 = update) varUint8Array(update).
        let message = SyncMessage::Update(vec![1, 2, 3]);
        let bytes = message.encode().expect("encodes");
        assert_eq!(bytes, vec![0, 2, 3, 1, 2, 3]);
        assert_eq!(SyncMessage::decode(&bytes), Ok(message));
        let step1 = SyncMessage::Step1(SharedText::new().state_vector());
        assert_eq!(step1.encode().expect("encodes"), vec![0, 0, 1, 0]);
    }

    #[test]
    fn refuses_garbage_and_edits_without_the_right() {
        assert!(SyncMessage::decode(&[]).is_err());
        assert!(SyncMessage::decode(&[0, 9, 0]).is_err());
        assert!(SyncMessage::decode(&[2, 0]).is_err()); // auth
        let mut doc = SharedText::new();
        let update = SharedText::new().set("x");
        assert_eq!(
            answer(&mut doc, &SyncMessage::Update(update.clone()), false, MAX),
            Err(Refused::NoRight)
        );
        // A reader's empty step 2 is no edit.
        let empty = SharedText::new().diff(&doc.state_vector()).expect("diff");
        assert_eq!(
            answer(&mut doc, &SyncMessage::Step2(empty), false, MAX),
            Ok(Answer::default())
        );
        assert!(matches!(
            answer(&mut doc, &SyncMessage::Update(vec![9, 9, 9]), true, MAX),
            Err(Refused::Bad(_))
        ));
        let a = answer(&mut doc, &SyncMessage::Update(update.clone()), true, MAX).expect("ok");
        assert!(a.changed && a.update.is_some());
        // The same update again brings nothing to pass on.
        let again = answer(&mut doc, &SyncMessage::Update(update), true, MAX).expect("ok");
        assert_eq!(again, Answer::default());
    }
}
