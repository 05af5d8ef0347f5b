//! Property: with the hub cutting the document into new epochs at random
//! moments, replicas that edit concurrently, whose messages are delivered
//! in random interleavings, whose connections drop and come back (on an
//! epoch the hub has since cut) and who send edits of an old epoch after
//! the cut, all converge to the hub's text, and no inserted character that
//! nobody deleted is lost or doubled.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use proptest::prelude::*;
use pushdesk_text::epoch::MAX_CUTS;
use pushdesk_text::{Applied, Epoch, Epochs, Rebase, Reset, SharedText, SyncMessage, answer};

const MAX: usize = 64 * 1024;

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
    /// The hub cuts its document into a new epoch.
    Cut,
}

fn step(clients: usize) -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (0..clients, any::<u8>(), 0u8..3).prop_map(|(c, at, delete)| Step::Edit { c, at, delete }),
        3 => (0..clients).prop_map(|c| Step::ToHub { c }),
        3 => (0..clients).prop_map(|c| Step::ToClient { c }),
        1 => (0..clients).prop_map(|c| Step::Reconnect { c }),
        1 => Just(Step::Cut),
    ]
}

/// Client → hub: a sync message or a rebase, each tagged with the epoch the
/// client was on when it sent it (what the hub tracks per connection).
enum Up {
    Sync(Epoch, Vec<u8>),
    Rebase(Vec<u8>),
}

/// Hub → client.
enum Down {
    Sync(Vec<u8>),
    Reset(Vec<u8>),
    /// The rebase with these bytes was taken.
    Ack(Vec<u8>),
}

struct Client {
    doc: SharedText,
    epoch: Epoch,
    /// Rebases sent and not yet acknowledged: sent again on a reconnect.
    pending: Vec<Vec<u8>>,
    up: VecDeque<Up>,
    down: VecDeque<Down>,
}

fn enc(m: SyncMessage) -> Vec<u8> {
    m.encode().expect("encodes")
}

struct World {
    hub: Epochs,
    clients: Vec<Client>,
    cuts: usize,
}

impl World {
    /// A (re)connect: what was in flight is lost; the client opens with
    /// step 1 of its epoch; the hub with its step 1, or a reset when the
    /// client is on an older epoch.
    fn connect(&mut self, c: usize) {
        let hub = &self.hub;
        let client = &mut self.clients[c];
        client.up.clear();
        client.down.clear();
        client
            .up
            .extend(client.pending.iter().cloned().map(Up::Rebase));
        client.up.push_back(Up::Sync(
            client.epoch,
            enc(SyncMessage::Step1(client.doc.state_vector())),
        ));
        if client.epoch == hub.epoch() {
            client.down.push_back(Down::Sync(enc(SyncMessage::Step1(
                hub.doc().state_vector(),
            ))));
        } else {
            let reset = Reset {
                epoch: hub.epoch(),
                base: hub.base_for(client.epoch),
                doc: hub.doc().snapshot(),
            };
            client.down.push_back(Down::Reset(reset.encode()));
        }
    }

    fn broadcast(&mut self, except: Option<usize>, update: &[u8]) {
        for (i, other) in self.clients.iter_mut().enumerate() {
            if Some(i) != except {
                other
                    .down
                    .push_back(Down::Sync(enc(SyncMessage::Update(update.to_vec()))));
            }
        }
    }

    /// An update of an older epoch: rebased, and the result goes to everyone.
    fn rebase(&mut self, epoch: Epoch, update: &[u8]) {
        match self.hub.apply(epoch, update).expect("rebases") {
            Applied::Update { update, .. } => self.broadcast(None, &update),
            Applied::Nothing => {}
        }
    }

    fn hub_receives(&mut self, from: usize, up: Up) {
        match up {
            Up::Rebase(bytes) => {
                let rebase = Rebase::decode(&bytes).expect("decodes");
                self.rebase(rebase.from, &rebase.update);
                self.clients[from].down.push_back(Down::Ack(bytes));
            }
            Up::Sync(epoch, bytes) => {
                let message = SyncMessage::decode(&bytes).expect("decodes");
                if epoch == self.hub.epoch() {
                    let answer = answer(self.hub.doc_mut(), &message, true, MAX).expect("accepted");
                    self.clients[from]
                        .down
                        .extend(answer.replies.into_iter().map(Down::Sync));
                    if let Some(update) = answer.update {
                        self.broadcast(Some(from), &update);
                    }
                } else if let SyncMessage::Step2(update) | SyncMessage::Update(update) = message {
                    self.rebase(epoch, &update);
                }
            }
        }
    }

    fn client_receives(&mut self, c: usize, down: Down) {
        let client = &mut self.clients[c];
        match down {
            Down::Sync(bytes) => {
                let message = SyncMessage::decode(&bytes).expect("decodes");
                let answer = answer(&mut client.doc, &message, true, MAX).expect("accepted");
                let epoch = client.epoch;
                client
                    .up
                    .extend(answer.replies.into_iter().map(|r| Up::Sync(epoch, r)));
            }
            Down::Reset(bytes) => {
                let reset = Reset::decode(&bytes).expect("decodes");
                let (doc, rebase) = reset.take(&client.doc, client.epoch).expect("takes");
                assert!(
                    reset.base.is_some(),
                    "the hub keeps every epoch of this test"
                );
                client.pending.push(rebase.encode());
                client.up.push_back(Up::Rebase(rebase.encode()));
                client.doc = doc;
                client.epoch = reset.epoch;
            }
            Down::Ack(bytes) => client.pending.retain(|p| *p != bytes),
        }
    }

    fn cut(&mut self) {
        if self.cuts == MAX_CUTS {
            return;
        }
        self.cuts += 1;
        let from = self.hub.epoch();
        let to = self.hub.next_epoch();
        let snapshot = self.hub.doc().snapshot();
        assert!(self.hub.cut(from, to, &snapshot).expect("cuts"));
        let reset = Reset {
            epoch: to,
            base: self.hub.base_for(from),
            doc: self.hub.doc().snapshot(),
        }
        .encode();
        for client in &mut self.clients {
            client.down.push_back(Down::Reset(reset.clone()));
        }
    }
}

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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn replicas_converge_across_cuts_and_lose_no_insert(
        steps in proptest::collection::vec(step(3), 1..150),
    ) {
        let mut world = World {
            hub: Epochs::new(),
            clients: (0..3)
                .map(|_| Client { doc: SharedText::new(), epoch: 0, pending: Vec::new(), up: VecDeque::new(), down: VecDeque::new() })
                .collect(),
            cuts: 0,
        };
        for c in 0..3 {
            world.connect(c);
        }
        let (mut n, mut inserted, mut deleted) = (0u32, BTreeSet::new(), BTreeSet::new());
        for s in steps {
            match s {
                Step::Edit { c, at, delete } => {
                    n += 1;
                    let ch = char::from_u32(0x4E00 + n).expect("in range");
                    inserted.insert(ch);
                    let client = &mut world.clients[c];
                    let new = edit(&client.doc.text(), at, delete, ch, &mut deleted);
                    let update = client.doc.set(&new);
                    let epoch = client.epoch;
                    client.up.push_back(Up::Sync(epoch, enc(SyncMessage::Update(update))));
                }
                Step::ToHub { c } => {
                    if let Some(m) = world.clients[c].up.pop_front() {
                        world.hub_receives(c, m);
                    }
                }
                Step::ToClient { c } => {
                    if let Some(m) = world.clients[c].down.pop_front() {
                        world.client_receives(c, m);
                    }
                }
                Step::Reconnect { c } => world.connect(c),
                Step::Cut => world.cut(),
            }
        }
        for c in 0..3 {
            world.connect(c);
        }
        let mut busy = true;
        while busy {
            busy = false;
            for c in 0..3 {
                while let Some(m) = world.clients[c].up.pop_front() {
                    world.hub_receives(c, m);
                    busy = true;
                }
                while let Some(m) = world.clients[c].down.pop_front() {
                    world.client_receives(c, m);
                    busy = true;
                }
            }
        }
        let text = world.hub.doc().text();
        for c in &world.clients {
            prop_assert_eq!(c.epoch, world.hub.epoch());
            prop_assert_eq!(&c.doc.text(), &text);
        }
        // Every insert nobody deleted is there, once.
        let mut counts: BTreeMap<char, usize> = BTreeMap::new();
        for ch in text.chars() {
            *counts.entry(ch).or_default() += 1;
        }
        let expected: BTreeSet<char> = inserted.difference(&deleted).copied().collect();
        let present: BTreeSet<char> = counts.keys().copied().collect();
        prop_assert_eq!(present, expected);
        prop_assert!(counts.values().all(|&k| k == 1), "doubled: {:?}", counts);
    }
}
