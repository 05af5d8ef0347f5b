//! Property: replicas that edit concurrently, with messages delivered in
//! random interleavings and connections dropped at random, converge to the
//! hub's text once everything is delivered, and no inserted character that
//! nobody deleted is lost. Seed clients (full-text writes, merged through a
//! shadow) converge too.

use std::collections::{BTreeSet, VecDeque};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use pushdesk_text::{Shadow, SharedText, SyncMessage, answer};

const MAX: usize = 64 * 1024;

/// One step of the simulation.
#[derive(Debug, Clone)]
enum Step {
    /// Client `c` edits: at `at` (fraction of its text) delete up to `delete` chars, insert one new char.
    Edit { c: usize, at: u8, delete: u8 },
    /// Deliver the oldest message from client `c` to the hub.
    ToHub { c: usize },
    /// Deliver the oldest message from the hub to client `c`.
    ToClient { c: usize },
    /// Client `c`'s connection drops (messages in flight are lost) and comes back.
    Reconnect { c: usize },
}

fn step(clients: usize) -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (0..clients, any::<u8>(), 0u8..3).prop_map(|(c, at, delete)| Step::Edit { c, at, delete }),
        3 => (0..clients).prop_map(|c| Step::ToHub { c }),
        3 => (0..clients).prop_map(|c| Step::ToClient { c }),
        1 => (0..clients).prop_map(|c| Step::Reconnect { c }),
    ]
}

struct Client {
    doc: SharedText,
    up: VecDeque<Vec<u8>>,
    down: VecDeque<Vec<u8>>,
}

impl Client {
    /// A (re)connect: what was in flight is lost; both sides open with step 1.
    fn connect(&mut self, hub: &SharedText) {
        self.up.clear();
        self.down.clear();
        self.up
            .push_back(enc(SyncMessage::Step1(self.doc.state_vector())));
        self.down
            .push_back(enc(SyncMessage::Step1(hub.state_vector())));
    }
}

fn enc(m: SyncMessage) -> Vec<u8> {
    m.encode().expect("encodes")
}

/// A char no one else inserts: the n-th CJK ideograph.
fn fresh(n: &mut u32) -> char {
    *n += 1;
    char::from_u32(0x4E00 + *n).expect("in range")
}

/// A splice on `text` deleting up to `delete` chars at fraction `at`, inserting `c`.
fn edit(text: &str, at: u8, delete: u8, c: char, deleted: &mut BTreeSet<char>) -> String {
    let chars: Vec<char> = text.chars().collect();
    let i = usize::from(at) * chars.len() / 256;
    let j = (i + usize::from(delete)).min(chars.len());
    deleted.extend(&chars[i..j]);
    let mut out: String = chars[..i].iter().collect();
    out.push(c);
    out.extend(&chars[j..]);
    out
}

fn hub_receives(hub: &mut SharedText, clients: &mut [Client], from: usize, bytes: &[u8]) {
    let message = SyncMessage::decode(bytes).expect("decodes");
    let answer = answer(hub, &message, true, MAX).expect("accepted");
    clients[from].down.extend(answer.replies);
    if let Some(update) = answer.update {
        for (i, other) in clients.iter_mut().enumerate() {
            if i != from {
                other
                    .down
                    .push_back(enc(SyncMessage::Update(update.clone())));
            }
        }
    }
}

fn client_receives(client: &mut Client, bytes: &[u8]) {
    let message = SyncMessage::decode(bytes).expect("decodes");
    let answer = answer(&mut client.doc, &message, true, MAX).expect("accepted");
    client.up.extend(answer.replies);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn crdt_clients_converge_and_lose_no_insert(steps in proptest::collection::vec(step(3), 1..120)) {
        let mut hub = SharedText::new();
        let mut clients: Vec<Client> = (0..3)
            .map(|_| Client { doc: SharedText::new(), up: VecDeque::new(), down: VecDeque::new() })
            .collect();
        for c in &mut clients {
            c.connect(&hub);
        }
        let (mut n, mut inserted, mut deleted) = (0u32, BTreeSet::new(), BTreeSet::new());
        for s in steps {
            match s {
                Step::Edit { c, at, delete } => {
                    let ch = fresh(&mut n);
                    inserted.insert(ch);
                    let client = &mut clients[c];
                    let new = edit(&client.doc.text(), at, delete, ch, &mut deleted);
                    let update = client.doc.set(&new);
                    client.up.push_back(enc(SyncMessage::Update(update)));
                }
                Step::ToHub { c } => {
                    if let Some(m) = clients[c].up.pop_front() {
                        hub_receives(&mut hub, &mut clients, c, &m);
                    }
                }
                Step::ToClient { c } => {
                    if let Some(m) = clients[c].down.pop_front() {
                        client_receives(&mut clients[c], &m);
                    }
                }
                Step::Reconnect { c } => clients[c].connect(&hub),
            }
        }
        // Everything delivered, then one more handshake each (as after a reconnect).
        for c in &mut clients {
            c.connect(&hub);
        }
        let mut busy = true;
        while busy {
            busy = false;
            for c in 0..clients.len() {
                while let Some(m) = clients[c].up.pop_front() {
                    hub_receives(&mut hub, &mut clients, c, &m);
                    busy = true;
                }
                while let Some(m) = clients[c].down.pop_front() {
                    client_receives(&mut clients[c], &m);
                    busy = true;
                }
            }
        }
        let text = hub.text();
        for c in &clients {
            prop_assert_eq!(&c.doc.text(), &text);
        }
        let present: BTreeSet<char> = text.chars().collect();
        let expected: BTreeSet<char> = inserted.difference(&deleted).copied().collect();
        prop_assert_eq!(present, expected);
    }

    #[test]
    fn seed_clients_converge_with_crdt_clients(
        steps in proptest::collection::vec((0usize..3, any::<u8>(), 0u8..3, any::<bool>()), 1..60),
    ) {
        // Client 0 is a CRDT replica; 1 and 2 are seed clients whose writes
        // reach the hub at once and which get the merged text back.
        let start = Instant::now();
        let mut hub = SharedText::new();
        let mut crdt = hub.fork();
        let mut seeds: Vec<(String, Shadow)> = (0..2).map(|_| (hub.text(), Shadow::new(&hub))).collect();
        let (mut n, mut deleted) = (0u32, BTreeSet::new());
        for (i, (c, at, delete, elapse)) in steps.into_iter().enumerate() {
            let now = start + Duration::from_millis(if elapse { 3000 } else { 10 } * i as u64);
            let ch = fresh(&mut n);
            if c == 0 {
                let new = edit(&crdt.text(), at, delete, ch, &mut deleted);
                let update = crdt.set(&new);
                if hub.apply(&update).expect("applies") {
                    for (text, shadow) in &mut seeds {
                        shadow.sent(&hub, now);
                        *text = hub.text();
                    }
                }
            } else {
                let (text, shadow) = &mut seeds[c - 1];
                let new = edit(text, at, delete, ch, &mut deleted);
                let merged = shadow.write(&mut hub, &new, now, MAX).expect("merges");
                *text = new.clone();
                crdt.apply(&merged.update).expect("applies");
                // The hub sends the merged text to every seed client (the writer only if it differs).
                for (j, (text, shadow)) in seeds.iter_mut().enumerate() {
                    if j != c - 1 || merged.echo {
                        shadow.sent(&hub, now);
                        *text = merged.text.clone();
                    }
                }
            }
        }
        let text = hub.text();
        prop_assert_eq!(&crdt.text(), &text);
        for (seen, _) in &seeds {
            prop_assert_eq!(seen, &text);
        }
    }
}
