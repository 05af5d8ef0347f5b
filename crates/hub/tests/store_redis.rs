//! The Redis store against a real `redis-server`, opened twice on the same
//! prefix as two hub nodes behind one name would: count, text and history
//! are shared; a node that stops refreshing stops counting after its TTL.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use std::collections::HashSet;
use std::future::Future;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use pushdesk_e2e::RedisServer;
use pushdesk_hub::store::{RedisOptions, Retention, Store, StoreError};
use pushdesk_hub_model::Notification;
use serde_json::json;

/// Every test finishes within this or fails.
const TEST_TIMEOUT: Duration = Duration::from_secs(60);
const DAY_MS: u64 = 24 * 60 * 60 * 1000;

async fn bounded<F: Future>(test: F) -> F::Output {
    tokio::time::timeout(TEST_TIMEOUT, test)
        .await
        .expect("test timed out")
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

fn ids(ns: &[Notification]) -> Vec<u64> {
    ns.iter().map(|n| n.id.unwrap()).collect()
}

async fn node(redis: &RedisServer, options: RedisOptions) -> Store {
    Store::open_redis_with(&redis.url(), options)
        .await
        .expect("opening the Redis store")
}

/// Two nodes on `redis` sharing `prefix`.
async fn two_nodes(redis: &RedisServer, prefix: &str, retention: Retention) -> (Store, Store) {
    let a = Store::open_redis(&redis.url(), prefix, retention.clone())
        .await
        .unwrap();
    let b = Store::open_redis(&redis.url(), prefix, retention)
        .await
        .unwrap();
    (a, b)
}

#[tokio::test]
async fn user_count_adds_up_across_nodes() {
    bounded(async {
        let redis = RedisServer::start().await.unwrap();
        let (a, b) = two_nodes(&redis, "t1:", Retention::default()).await;
        assert_eq!(a.user_count().await.unwrap(), 0);
        assert_eq!(a.user_connected().await.unwrap(), 1);
        assert_eq!(b.user_connected().await.unwrap(), 2);
        assert_eq!(b.user_connected().await.unwrap(), 3);
        assert_eq!(a.user_count().await.unwrap(), 3);
        assert_eq!(b.user_count().await.unwrap(), 3);
        assert_eq!(a.user_disconnected().await.unwrap(), 2);
        // A node never counts below zero, whatever the others have.
        assert_eq!(a.user_disconnected().await.unwrap(), 2);
        assert_eq!(b.user_disconnected().await.unwrap(), 1);
        // Many connects at once on one node, from many tasks.
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let a = a.clone();
                tokio::spawn(async move { a.user_connected().await.unwrap() })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(b.user_count().await.unwrap(), 21);
        // A graceful stop takes the node's users out at once.
        a.shutdown().await.unwrap();
        assert_eq!(b.user_count().await.unwrap(), 1);
        assert_eq!(a.user_count().await.unwrap(), 1);
    })
    .await;
}

#[tokio::test]
async fn a_node_that_stops_refreshing_stops_counting_after_its_ttl() {
    bounded(async {
        let redis = RedisServer::start().await.unwrap();
        let ttl = Duration::from_secs(1);
        let options = RedisOptions {
            prefix: "t2:".into(),
            node_ttl: ttl,
            ..RedisOptions::default()
        };
        let a = node(&redis, options.clone()).await;
        let b = node(&redis, options).await;
        a.user_connected().await.unwrap();
        a.user_connected().await.unwrap();
        for _ in 0..3 {
            b.user_connected().await.unwrap();
        }
        // Alive nodes refresh: several TTLs later both still count.
        tokio::time::sleep(ttl * 3).await;
        assert_eq!(a.user_count().await.unwrap(), 5);
        // B "crashes": its store and refresh task are gone, its key is not
        // deleted.
        drop(b);
        let dropped = Instant::now();
        assert_eq!(
            a.user_count().await.unwrap(),
            5,
            "counted out before the TTL"
        );
        loop {
            let count = a.user_count().await.unwrap();
            if count == 2 {
                break;
            }
            assert_eq!(count, 5);
            assert!(
                dropped.elapsed() < ttl * 5,
                "B still counted {:?} after it stopped",
                dropped.elapsed()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // Its registration is gone too; A still refreshes its own.
        assert_eq!(redis.command(&["SCARD", "t2:nodes"]).await.unwrap(), ":1");
        tokio::time::sleep(ttl * 2).await;
        assert_eq!(a.user_count().await.unwrap(), 2);
    })
    .await;
}

#[tokio::test]
async fn text_set_on_one_node_is_read_on_the_other() {
    bounded(async {
        let redis = RedisServer::start().await.unwrap();
        let (a, b) = two_nodes(&redis, "t3:", Retention::default()).await;
        assert_eq!(b.text().await.unwrap(), "");
        a.set_text("hello 世界").await.unwrap();
        assert_eq!(b.text().await.unwrap(), "hello 世界");
        b.set_text("").await.unwrap();
        assert_eq!(a.text().await.unwrap(), "");
        assert_eq!(redis.command(&["EXISTS", "t3:text"]).await.unwrap(), ":1");
    })
    .await;
}

#[tokio::test]
async fn nodes_share_one_epoch_and_a_redis_that_lost_its_data_gets_a_new_one() {
    bounded(async {
        let redis = RedisServer::start().await.unwrap();
        let (a, b) = two_nodes(&redis, "t9:", Retention::default()).await;
        let epoch = a.epoch().await.unwrap();
        assert_eq!(epoch.len(), 16);
        assert_eq!(b.epoch().await.unwrap(), epoch);
        assert_eq!(a.epoch().await.unwrap(), epoch, "stable");
        // Redis loses everything: ids start over, and so does the epoch.
        assert_eq!(redis.command(&["FLUSHALL"]).await.unwrap(), "+OK");
        let again = b.epoch().await.unwrap();
        assert_ne!(again, epoch);
        assert_eq!(a.epoch().await.unwrap(), again);
    })
    .await;
}

#[tokio::test]
async fn interleaved_publishes_get_unique_increasing_ids_seen_by_both() {
    bounded(async {
        let redis = RedisServer::start().await.unwrap();
        let (a, b) = two_nodes(&redis, "t4:", Retention::default()).await;
        let now = now_ms();
        // Strictly alternating first.
        let mut seen = Vec::new();
        for i in 0..6 {
            let node = if i % 2 == 0 { &a } else { &b };
            let n = node
                .publish(Notification::new(format!("seq {i}")), now)
                .await
                .unwrap();
            assert_eq!(n.timestamp, Some(now));
            seen.push(n.id.unwrap());
        }
        assert_eq!(seen, [1, 2, 3, 4, 5, 6]);
        // Then concurrently from many tasks on both nodes.
        const TASKS: u64 = 8;
        const EACH: u64 = 20;
        let tasks: Vec<_> = (0..TASKS)
            .map(|t| {
                let node = if t % 2 == 0 { a.clone() } else { b.clone() };
                tokio::spawn(async move {
                    let mut mine = Vec::new();
                    for i in 0..EACH {
                        let n = node
                            .publish(Notification::new(format!("{t}/{i}")), now)
                            .await
                            .unwrap();
                        mine.push(n.id.unwrap());
                    }
                    mine
                })
            })
            .collect();
        let mut all = HashSet::new();
        for t in tasks {
            let mine = t.await.unwrap();
            assert!(mine.windows(2).all(|w| w[0] < w[1]), "{mine:?}");
            for id in mine {
                assert!(all.insert(id), "id {id} handed out twice");
            }
        }
        let total = 6 + TASKS * EACH;
        assert_eq!(all, (7..=total).collect::<HashSet<_>>());
        let want: Vec<u64> = (1..=total).collect();
        for node in [&a, &b] {
            assert_eq!(node.last_id().await.unwrap(), total);
            assert_eq!(ids(&node.since(0, 10_000).await.unwrap()), want);
            // Paging with the last id seen replays each exactly once.
            let mut paged = Vec::new();
            let mut after = 0;
            loop {
                let page = node.since(after, 7).await.unwrap();
                let Some(last) = page.last() else { break };
                after = last.id.unwrap();
                paged.extend(ids(&page));
            }
            assert_eq!(paged, want);
            assert_eq!(
                ids(&node.recent(3).await.unwrap()),
                [total - 2, total - 1, total]
            );
        }
        assert_eq!(a.since(total, 10).await.unwrap(), []);
        assert_eq!(a.since(0, 0).await.unwrap(), []);
    })
    .await;
}

#[tokio::test]
async fn every_field_round_trips() {
    bounded(async {
        let redis = RedisServer::start().await.unwrap();
        let (a, b) = two_nodes(&redis, "t5:", Retention::default()).await;
        let n: Notification = serde_json::from_value(json!({
            "title": "Deploy \"quoted\" 日本語", "body": "v1.2", "icon": "images/icon.png",
            "tag": "deploy", "data1": {"deep": [1, null, "s", 1.5, 12345678901234567u64]},
            "url": "https://ci.example/7", "urgency": "low", "data": {"run": 7},
            "actions": [{"id": "open", "title": "Open"}], "ttl": 5000,
            "id": 999, "timestamp": 1
        }))
        .unwrap();
        let now = now_ms();
        let stored = a.publish(n.clone(), now).await.unwrap();
        let want = Notification {
            id: Some(1),
            timestamp: Some(now),
            ..n
        };
        assert_eq!(stored, want);
        assert_eq!(b.since(0, 10).await.unwrap(), std::slice::from_ref(&want));
        assert_eq!(b.recent(10).await.unwrap(), [want]);
    })
    .await;
}

#[tokio::test]
async fn retention_by_count() {
    bounded(async {
        let redis = RedisServer::start().await.unwrap();
        let retention = Retention {
            max_count: 5,
            ..Retention::default()
        };
        let (a, b) = two_nodes(&redis, "t6:", retention).await;
        let now = now_ms();
        for i in 1..=12 {
            let node = if i % 3 == 0 { &b } else { &a };
            node.publish(Notification::new(format!("n{i}")), now)
                .await
                .unwrap();
        }
        // Publish keeps the bound by itself, in both sorted sets.
        assert_eq!(ids(&b.since(0, 100).await.unwrap()), [8, 9, 10, 11, 12]);
        assert_eq!(redis.command(&["ZCARD", "t6:history"]).await.unwrap(), ":5");
        assert_eq!(
            redis.command(&["ZCARD", "t6:history:ts"]).await.unwrap(),
            ":5"
        );
        assert_eq!(ids(&a.recent(2).await.unwrap()), [11, 12]);
        assert_eq!(a.prune(now).await.unwrap(), 0);
        // A node with a smaller bound prunes the shared history to it.
        let small = node(
            &redis,
            RedisOptions {
                prefix: "t6:".into(),
                retention: Retention {
                    max_count: 2,
                    ..Retention::default()
                },
                ..RedisOptions::default()
            },
        )
        .await;
        assert_eq!(small.prune(now).await.unwrap(), 3);
        assert_eq!(ids(&a.since(0, 100).await.unwrap()), [11, 12]);
        assert_eq!(
            redis.command(&["ZCARD", "t6:history:ts"]).await.unwrap(),
            ":2"
        );
        assert_eq!(a.last_id().await.unwrap(), 12);
    })
    .await;
}

#[tokio::test]
async fn retention_by_age_and_ids_continue_after_pruning_everything() {
    bounded(async {
        let redis = RedisServer::start().await.unwrap();
        let retention = Retention {
            max_count: 100,
            max_age: Duration::from_millis(2 * DAY_MS),
        };
        let (a, b) = two_nodes(&redis, "t7:", retention).await;
        let now = now_ms();
        for day in (0..=4).rev() {
            a.publish(
                Notification::new(format!("{day} days ago")),
                now - day * DAY_MS,
            )
            .await
            .unwrap();
        }
        // Older than two days: never read, even before pruning. (Exactly
        // two days old is kept.)
        assert_eq!(
            ids(&b.since_at(0, 100, None, now).await.unwrap()),
            [3, 4, 5]
        );
        assert_eq!(ids(&b.since_at(0, 2, None, now).await.unwrap()), [3, 4]);
        assert_eq!(ids(&b.recent_at(100, None, now).await.unwrap()), [3, 4, 5]);
        assert_eq!(ids(&b.recent_at(2, None, now).await.unwrap()), [4, 5]);
        // By the wall clock, a little later, the oldest of them has gone.
        tokio::time::sleep(Duration::from_millis(5)).await;
        assert_eq!(ids(&b.since(0, 100).await.unwrap()), [4, 5]);
        assert!(
            b.since_at(0, 100, None, now + 10 * DAY_MS)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(b.prune(now).await.unwrap(), 2);
        assert_eq!(redis.command(&["ZCARD", "t7:history"]).await.unwrap(), ":3");
        assert_eq!(
            redis.command(&["ZCARD", "t7:history:ts"]).await.unwrap(),
            ":3"
        );
        assert_eq!(b.prune(now + 10 * DAY_MS).await.unwrap(), 3);
        assert_eq!(a.recent(10).await.unwrap(), []);
        assert_eq!(a.last_id().await.unwrap(), 5);
        let next = b.publish(Notification::new("after"), now).await.unwrap();
        assert_eq!(next.id, Some(6));
    })
    .await;
}

#[tokio::test]
async fn prefixes_isolate_hubs_sharing_a_redis() {
    bounded(async {
        let redis = RedisServer::start().await.unwrap();
        let one = Store::open_redis(&redis.url(), "one:", Retention::default())
            .await
            .unwrap();
        let two = Store::open_redis(&redis.url(), "two:", Retention::default())
            .await
            .unwrap();
        one.user_connected().await.unwrap();
        one.set_text("one").await.unwrap();
        one.publish(Notification::new("one"), now_ms())
            .await
            .unwrap();
        assert_eq!(two.user_count().await.unwrap(), 0);
        assert_eq!(two.text().await.unwrap(), "");
        assert_eq!(two.last_id().await.unwrap(), 0);
        assert_eq!(two.since(0, 10).await.unwrap(), []);
        assert_eq!(
            two.publish(Notification::new("two"), now_ms())
                .await
                .unwrap()
                .id,
            Some(1)
        );
    })
    .await;
}

#[tokio::test]
async fn the_client_is_shared_and_speaks_resp3() {
    bounded(async {
        let redis = RedisServer::start().await.unwrap();
        let store = Store::open_redis(&redis.url(), "t8:", Retention::default())
            .await
            .unwrap();
        let client = store.redis_client().expect("a Redis store has a client");
        assert_eq!(
            client.get_connection_info().redis_settings().protocol(),
            redis::ProtocolVersion::RESP3
        );
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        let pong: String = redis::cmd("PING").query_async(&mut conn).await.unwrap();
        assert_eq!(pong, "PONG");
    })
    .await;
}

#[tokio::test]
async fn bad_urls_and_unreachable_servers_are_clear_errors() {
    bounded(async {
        let err = Store::open_redis("http://127.0.0.1:1", "x:", Retention::default())
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::RedisUrl { .. }), "{err:?}");
        assert!(err.to_string().starts_with("invalid Redis URL"), "{err}");

        let port = pushdesk_e2e::free_port();
        let url = format!("redis://:hunter2@127.0.0.1:{port}");
        let err = Store::open_redis(&url, "x:", Retention::default())
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::RedisConnect { .. }), "{err:?}");
        let message = err.to_string();
        assert!(
            message.contains(&format!(
                "cannot connect to Redis at redis://***@127.0.0.1:{port}"
            )),
            "{message}"
        );
        assert!(!message.contains("hunter2"), "{message}");
    })
    .await;
}

#[tokio::test]
async fn a_restarted_node_continues_the_shared_history() {
    bounded(async {
        let redis = RedisServer::start().await.unwrap();
        {
            let (a, b) = two_nodes(&redis, "t9:", Retention::default()).await;
            a.publish(Notification::new("1"), now_ms()).await.unwrap();
            b.publish(Notification::new("2"), now_ms()).await.unwrap();
            a.set_text("kept").await.unwrap();
        }
        let a = Store::open_redis(&redis.url(), "t9:", Retention::default())
            .await
            .unwrap();
        assert_eq!(a.text().await.unwrap(), "kept");
        assert_eq!(ids(&a.since(0, 10).await.unwrap()), [1, 2]);
        assert_eq!(
            a.publish(Notification::new("3"), now_ms())
                .await
                .unwrap()
                .id,
            Some(3)
        );
        // Even if the counter key alone were lost, ids stay above the history.
        redis.command(&["DEL", "t9:next_id"]).await.unwrap();
        assert_eq!(
            a.publish(Notification::new("4"), now_ms())
                .await
                .unwrap()
                .id,
            Some(4)
        );
    })
    .await;
}

#[tokio::test]
async fn the_text_document_syncs_between_nodes_and_compacts() {
    use pushdesk_hub::text::{TextConfig, TextHub};
    use pushdesk_text::{SharedText, SyncMessage};
    const COMPACT_EVERY: usize = 500;
    bounded(async {
        let redis = RedisServer::start().await.unwrap();
        let (a, b) = two_nodes(&redis, "t9:", Retention::default()).await;
        let hub_a = TextHub::load(a.clone(), TextConfig::default())
            .await
            .unwrap();
        let hub_b = TextHub::load(b.clone(), TextConfig::default())
            .await
            .unwrap();
        let mut client = SharedText::new();
        for i in 0..COMPACT_EVERY + 20 {
            let update = client.set(&format!("edit {i}"));
            let message = SyncMessage::Update(update).encode().unwrap();
            let hub = if i % 2 == 0 { &hub_a } else { &hub_b };
            let synced = hub.sync("c", &message, true).unwrap();
            let (epoch, update) = synced.update.unwrap();
            hub.store_update(epoch, update).await.unwrap();
        }
        let want = client.text();
        // Each node hears the other's through the stream.
        for hub in [&hub_a, &hub_b] {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
            while hub.text() != want {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "{} != {want}",
                    hub.text()
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        hub_a.compact().await;
        assert_eq!(
            redis
                .command(&["HEXISTS", "t9:text:snap", "mark"])
                .await
                .unwrap(),
            ":1"
        );
        let (log, _) = a.text_log().await.unwrap();
        assert!(
            log.len() < 50,
            "{} updates to load after the snapshot",
            log.len()
        );
        let fresh = TextHub::load(b.clone(), TextConfig::default())
            .await
            .unwrap();
        assert_eq!(fresh.text(), want);
    })
    .await;
}

/// A cut made on one node reaches the other through the stream: both move
/// to the same epoch with the same text, a Yjs peer on the other node is
/// sent the reset, an edit made on the old epoch and sent to either node
/// is rebased into the same bytes on both (on the node it was sent to,
/// before that node acks it), and a node started later loads
/// the same text and epoch.
#[tokio::test]
async fn a_cut_on_one_node_moves_every_node_to_the_new_epoch() {
    use pushdesk_hub::text::{Out, TextConfig, TextHub};
    use pushdesk_text::{CutPolicy, Reset, SharedText, SyncMessage};
    use std::sync::{Arc, Mutex};
    bounded(async {
        let redis = RedisServer::start().await.unwrap();
        let (a, b) = two_nodes(&redis, "t10:", Retention::default()).await;
        let config = TextConfig {
            compact_every: 40,
            cut: CutPolicy {
                min_bytes: 0,
                ratio: 2,
            },
            ..TextConfig::default()
        };
        let hub_a = TextHub::load(a.clone(), config).await.unwrap();
        let hub_b = TextHub::load(b.clone(), config).await.unwrap();
        let resets = Arc::new(Mutex::new(Vec::new()));
        let r = resets.clone();
        hub_b.join(
            "watcher",
            true,
            None,
            Box::new(move |out| {
                if let Out::Reset(bytes) = out {
                    r.lock().unwrap().push(bytes.to_vec());
                }
            }),
        );
        // A typist on A that never takes the reset: its messages stay of
        // the first epoch, and once the cut is made they are rebased.
        hub_a.join("typist", true, None, Box::new(|_| {}));
        let mut typist = SharedText::new();
        let start = hub_a.epoch();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        let mut i = 0;
        while hub_a.epoch() == start || hub_b.epoch() != hub_a.epoch() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "no cut reached both nodes"
            );
            i += 1;
            let update = typist.set(&format!("edit {i} of the shared text"));
            let message = SyncMessage::Update(update).encode().unwrap();
            if let Some((epoch, update)) = hub_a.sync("typist", &message, true).unwrap().update {
                hub_a.store_update(epoch, update).await.unwrap();
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let want = typist.text();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while hub_a.text() != want || hub_b.text() != want {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the nodes did not settle"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let epoch = hub_a.epoch();
        assert_eq!(hub_b.text(), hub_a.text());
        let reset = resets
            .lock()
            .unwrap()
            .first()
            .cloned()
            .expect("B's peer got the reset");
        assert_eq!(Reset::decode(&reset).unwrap().epoch, epoch);
        // The typist's next edit, on the old epoch, sent to B.
        let late = typist.set(&format!("{} (late)", typist.text()));
        hub_b.store_update(start, late).await.unwrap();
        let want = typist.text();
        // Rebased and applied on B before the store returned (so before the
        // sender's ack: a peer ends its move to the new epoch on that ack).
        assert_eq!(hub_b.text(), want, "applied before store_update returned");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while hub_a.text() != want || hub_b.text() != want {
            assert!(
                tokio::time::Instant::now() < deadline,
                "A {:?}, B {:?}, want {want:?}",
                hub_a.text(),
                hub_b.text()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // Both made the same rebased update: their documents are equal.
        assert_eq!(hub_a.snapshot(), hub_b.snapshot());
        let fresh = TextHub::load(b.clone(), config).await.unwrap();
        assert_eq!(fresh.text(), want);
        assert_eq!(fresh.epoch(), hub_a.epoch());
    })
    .await;
}
