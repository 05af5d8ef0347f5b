//! How big the stored shared text gets: `text_size [EDITS [uncut]]`
//! (default 100 000; `uncut`: without epochs) types EDITS keystrokes into a hub's document as a Yjs client
//! would (nine in ten insert a character at a cursor that mostly moves on,
//! one in ten deletes the one before it; a line break every 60), each one
//! stored through the hub's own path ([`TextHub`] over the SQLite store),
//! then compacts and reports the sizes: text, the current epoch's
//! document, what the log holds (that document and the kept cuts), the
//! database file.
//! `scripts/bench-text.sh` runs it.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark driver: failing loudly is right

use pushdesk_hub::Retention;
use pushdesk_hub::store::Store;
use std::sync::{Arc, Mutex};

use pushdesk_hub::text::{Out, TextConfig, TextHub};
use pushdesk_text::{Reset, SharedText, Splice, SyncMessage};

#[tokio::main]
async fn main() {
    let edits: usize = std::env::args()
        .nth(1)
        .map_or(100_000, |v| v.parse().expect("EDITS is a number"));
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_local(dir.path(), Retention::default())
        .await
        .unwrap();
    // `uncut`: never cut into a new epoch (the size before epochs).
    let mut config = TextConfig::default();
    if std::env::args().nth(2).as_deref() == Some("uncut") {
        config.cut.min_bytes = usize::MAX;
    }
    let hub = TextHub::load(store.clone(), config).await.unwrap();
    // The typist follows the hub's cuts, as every Yjs peer does.
    let resets = Arc::new(Mutex::new(Vec::new()));
    let sink = resets.clone();
    hub.join(
        "bench",
        true,
        None,
        Box::new(move |out| {
            if let Out::Reset(bytes) = out {
                sink.lock().unwrap().push(bytes.to_vec());
            }
        }),
    );
    let mut client = SharedText::new();
    let mut epoch = hub.epoch();
    let mut cuts = 0;
    let mut cursor: u32 = 0;
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let started = std::time::Instant::now();
    for i in 0..edits {
        let len = u32::try_from(client.text().encode_utf16().count()).unwrap();
        let r = next();
        if r % 50 == 0 {
            cursor = u32::try_from(r >> 8).unwrap_or(0) % (len + 1); // the user clicks elsewhere
        }
        cursor = cursor.min(len);
        let splice = if r % 10 == 1 && cursor > 0 {
            cursor -= 1;
            Splice {
                index: cursor,
                delete: 1,
                insert: String::new(),
            }
        } else {
            let c = if i % 60 == 59 {
                '\n'
            } else {
                char::from(b'a' + (r % 26) as u8)
            };
            cursor += 1;
            Splice {
                index: cursor - 1,
                delete: 0,
                insert: c.to_string(),
            }
        };
        // Keep the text under the hub's limit: past 48 KiB, delete instead.
        let splice = if client.text().len() > 48 * 1024 {
            cursor = cursor.saturating_sub(1);
            Splice {
                index: cursor,
                delete: 1,
                insert: String::new(),
            }
        } else {
            splice
        };
        let update = client.splice(&splice);
        let message = SyncMessage::Update(update).encode().unwrap();
        let synced = hub.sync("bench", &message, true).unwrap();
        if let Some((epoch, update)) = synced.update {
            hub.store_update(epoch, update).await.unwrap();
        }
        let taken: Vec<Vec<u8>> = std::mem::take(&mut *resets.lock().unwrap());
        for bytes in taken {
            let reset = Reset::decode(&bytes).unwrap();
            let (doc, rebase) = reset.take(&client, epoch).unwrap();
            if let Some((from, update)) = hub.rebase("bench", &rebase.encode(), true).unwrap() {
                hub.store_update(from, update).await.unwrap();
            }
            client = doc;
            epoch = reset.epoch;
            cuts += 1;
        }
    }
    assert_eq!(hub.text(), client.text(), "the typist and the hub agree");
    let elapsed = started.elapsed().as_secs_f64();
    hub.compact().await;
    let text = hub.text();
    let snapshot = hub.snapshot();
    let (log, _) = store.text_log().await.unwrap();
    let stored: usize = log.iter().map(Vec::len).sum();
    store.shutdown().await.unwrap();
    drop(hub);
    let db: u64 = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("pushdesk.sqlite3")
        })
        .map(|e| e.metadata().map_or(0, |m| m.len()))
        .sum();
    println!(
        "{}",
        serde_json::json!({
            "edits": edits,
            "text_bytes": text.len(),
            "snapshot_bytes": snapshot.len(),
            "stored_bytes": stored,
            "cuts": cuts,
            "database_bytes": db,
            "edits_per_s": edits as f64 / elapsed,
        })
    );
}
