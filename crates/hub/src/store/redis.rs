//! The Redis backend: several hub nodes share one Redis, so they share the
//! user count, the shared text and the notification history.
//!
//! One [`ConnectionManager`] (multiplexed, reconnects by itself) per store.
//! Every multi-key change is one Lua script, so it is atomic: a
//! notification becomes visible together with its id, the count bound is
//! applied in the same step, and a node's count is written together with
//! its registration. The key layout is on [`RedisOptions`].
//!
//! The scripts touch keys they compute from the prefix (the per-node
//! counts), so this backend needs a standalone Redis (or a replicated one),
//! not Redis Cluster.

use std::fmt;
use std::sync::{Arc, LazyLock, OnceLock, Weak};
use std::time::Duration;

use pushdesk_hub_model::Notification;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, IntoConnectionInfo as _, ProtocolVersion, Script};
use tokio::task::AbortHandle;

use super::error::redact_url;
use super::{Retention, StoreError, TextMark};

/// Options of the Redis backend ([`Store::open_redis_with`](super::Store::open_redis_with)).
///
/// # Key layout
///
/// Every key starts with [`prefix`](Self::prefix) (`P`, default
/// `pushdesk:`):
///
/// | key | type | holds |
/// | --- | --- | --- |
/// | `P` `next_id` | string (integer) | the last notification id handed out (`INCR`) |
/// | `P` `history` | sorted set | score: id; member: the notification's JSON (starting `{"id":N,`) |
/// | `P` `history:ts` | sorted set | score: timestamp (Unix ms); member: id, for pruning by age |
/// | `P` `history:feed` | stream (capped, about [`FEED_LEN`] entries) | one entry (field `id`) per notification stored: wakes every node's delivery |
/// | `P` `text` | string | the shared text, as plain text as of the last compaction |
/// | `P` `text:log` | stream | the shared text's document: one Yjs update per entry (field `u`) |
/// | `P` `text:snap` | hash | `mark`: the last log entry folded in; `data`: the document up to it, compacted |
/// | `P` `nodes` | set | ids of the nodes that may be counting users |
/// | `P` `node:` ID | string (integer), TTL [`node_ttl`](Self::node_ttl) | users connected to node ID |
/// | `P` `node_seq` | string (integer) | the last node id handed out (`INCR` when a store opens) |
///
/// The user count is the sum of the `node:` keys of the nodes in `nodes`;
/// a node whose key has expired (it crashed or lost Redis for longer than
/// the TTL) is dropped from `nodes` while summing. Each node rewrites its
/// key on every connect and disconnect and every third of the TTL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisOptions {
    /// Prefix of every key, so several hubs (or tests) can share a Redis.
    pub prefix: String,
    /// How much history to keep.
    pub retention: Retention,
    /// How long a node's user count outlives the node's last refresh. The
    /// node refreshes it every third of this.
    pub node_ttl: Duration,
}

impl RedisOptions {
    /// The default key prefix.
    pub const DEFAULT_PREFIX: &str = "pushdesk:";
    /// The default node TTL: 30 s.
    pub const DEFAULT_NODE_TTL: Duration = Duration::from_secs(30);
}

impl Default for RedisOptions {
    /// Prefix `pushdesk:`, default [`Retention`], node TTL 30 s.
    fn default() -> Self {
        Self {
            prefix: Self::DEFAULT_PREFIX.to_owned(),
            retention: Retention::default(),
            node_ttl: Self::DEFAULT_NODE_TTL,
        }
    }
}

/// The shortest node TTL accepted (shorter ones are raised to it).
const MIN_NODE_TTL: Duration = Duration::from_millis(300);

/// At most this many members per round trip when reading history.
const BATCH: usize = 500;

/// About how many entries `history:feed` keeps (it only wakes readers;
/// the history itself is the sorted set).
pub const FEED_LEN: usize = 1000;

/// How the connection manager connects and retries.
fn manager_config() -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(5)))
        .set_response_timeout(Some(Duration::from_secs(5)))
        .set_number_of_retries(4)
        .set_max_delay(Duration::from_secs(2))
}

/// The Lua helper both history scripts use: drops the oldest members of
/// `KEYS[2]` (and their ids from `KEYS[3]`) beyond `max_count`; returns
/// how many.
macro_rules! trim_lua {
    () => {
        r#"
local function trim(max_count)
  local n = redis.call('ZCARD', KEYS[2])
  if n <= max_count then return 0 end
  local drop = n - max_count
  local old = redis.call('ZRANGE', KEYS[2], 0, drop - 1, 'WITHSCORES')
  for i = 2, #old, 2 do
    redis.call('ZREM', KEYS[3], string.format('%d', tonumber(old[i])))
  end
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, drop - 1)
  return drop
end
"#
    };
}

/// Publish: KEYS next_id, history, history:ts, history:feed; ARGV the JSON
/// without `id` (an object with at least one key), the timestamp,
/// max_count, the feed's length. Returns the id. The id is also kept above
/// any id already in the history, in case `next_id` alone was lost.
static PUBLISH: LazyLock<Script> = LazyLock::new(|| {
    Script::new(concat!(
        trim_lua!(),
        r#"
local id = redis.call('INCR', KEYS[1])
local top = redis.call('ZREVRANGE', KEYS[2], 0, 0, 'WITHSCORES')
if top[2] and tonumber(top[2]) >= id then
  id = tonumber(top[2]) + 1
  redis.call('SET', KEYS[1], string.format('%d', id))
end
local sid = string.format('%d', id)
redis.call('ZADD', KEYS[2], sid, '{"id":' .. sid .. ',' .. string.sub(ARGV[1], 2))
redis.call('ZADD', KEYS[3], ARGV[2], sid)
trim(tonumber(ARGV[3]))
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[4], '*', 'id', sid)
return id
"#
    ))
});

/// Prune: KEYS next_id, history, history:ts; ARGV the cutoff timestamp,
/// max_count. Returns how many notifications it removed.
static PRUNE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(concat!(
        trim_lua!(),
        r#"
local removed = 0
local cutoff = '(' .. ARGV[1]
local expired = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', cutoff)
for _, id in ipairs(expired) do
  removed = removed + redis.call('ZREMRANGEBYSCORE', KEYS[2], id, id)
end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', cutoff)
return removed + trim(tonumber(ARGV[2]))
"#
    ))
});

/// Count: KEYS nodes; ARGV the node key prefix, this node's id (or `""`
/// to only read), its user count, the TTL in ms. Writes this node's count
/// (if an id is given) and returns the sum over live nodes, forgetting the
/// dead ones.
static COUNT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
if ARGV[2] ~= '' then
  redis.call('SET', ARGV[1] .. ARGV[2], ARGV[3], 'PX', ARGV[4])
  redis.call('SADD', KEYS[1], ARGV[2])
end
local total = 0
for _, node in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local users = redis.call('GET', ARGV[1] .. node)
  if users then
    total = total + (tonumber(users) or 0)
  else
    redis.call('SREM', KEYS[1], node)
  end
end
return total
"#,
    )
});

/// One stream entry as Redis returns it: its id and its fields, name then value.
type StreamEntry = (String, Vec<Vec<u8>>);

/// `XREAD`'s reply: per stream, its name and the entries (nil on a timeout).
type XReadReply = Option<Vec<(String, Vec<StreamEntry>)>>;

/// A stream id before every entry.
const NO_ENTRY: &str = "0-0";

/// What [`follow_stream`] hands its handler.
enum StreamRead {
    /// A (new) connection is up: entries may have been added while there
    /// was none.
    Connected,
    /// The entries one `XREAD` returned after the last one read (none when
    /// it timed out).
    Entries(Vec<StreamEntry>),
}

/// Reads stream `key` after `mark` with `XREAD BLOCK` on a connection of
/// its own, reconnecting after errors (`what` names it in the logs), and
/// hands each read to `handle`, until `handle` returns false.
async fn follow_stream<F, Fut>(
    client: Client,
    key: String,
    mut mark: String,
    what: &'static str,
    mut handle: F,
) where
    F: FnMut(StreamRead) -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let config = redis::AsyncConnectionConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(5)))
        .set_response_timeout(Some(Duration::from_secs(15)));
    let mut conn = None;
    loop {
        let c = match &mut conn {
            Some(c) => c,
            None => match client
                .get_multiplexed_async_connection_with_config(&config)
                .await
            {
                Ok(c) => {
                    if !handle(StreamRead::Connected).await {
                        return;
                    }
                    conn.insert(c)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "{what}: cannot reach Redis; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            },
        };
        let read: Result<XReadReply, _> = redis::cmd("XREAD")
            .arg("COUNT")
            .arg(BATCH)
            .arg("BLOCK")
            .arg(5_000)
            .arg("STREAMS")
            .arg(&key)
            .arg(&mark)
            .query_async(c)
            .await;
        match read {
            Ok(streams) => {
                let entries: Vec<StreamEntry> = streams
                    .into_iter()
                    .flatten()
                    .flat_map(|(_, entries)| entries)
                    .collect();
                if let Some((id, _)) = entries.last() {
                    mark = id.clone();
                }
                if !handle(StreamRead::Entries(entries)).await {
                    return;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "{what}: reading failed; retrying");
                conn = None;
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// The update in a text log entry's fields (`u`, the update).
fn entry_update(fields: Vec<Vec<u8>>) -> Option<Vec<u8>> {
    let mut fields = fields.into_iter();
    while let (Some(name), Some(value)) = (fields.next(), fields.next()) {
        if name == b"u" {
            return Some(value);
        }
    }
    None
}

/// Replaces the text snapshot (`KEYS[1]`) with `ARGV[2]` folded up to log
/// entry `ARGV[1]`, unless the stored one is as new; trims the log
/// (`KEYS[2]`) before `ARGV[3]`, but never past the snapshot.
static COMPACT_TEXT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local function before(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  return am < bm or (am == bm and as < bs)
end
local current = redis.call('HGET', KEYS[1], 'mark')
if current and not before(current, ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'mark', ARGV[1], 'data', ARGV[2])
local trim = ARGV[3]
if before(ARGV[1], trim) then trim = ARGV[1] end
redis.call('XTRIM', KEYS[2], 'MINID', trim)
return 1
"#,
    )
});

/// Appends `ARGV[2]` to the text log (`KEYS[1]`) as field `u` only if its
/// newest entry is `ARGV[1]` (`0-0`: none); returns the new id, or false.
static APPEND_TEXT_AFTER: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local newest = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local id = '0-0'
if newest[1] then id = newest[1][1] end
if id ~= ARGV[1] then return false end
return redis.call('XADD', KEYS[1], '*', 'u', ARGV[2])
"#,
    )
});

/// The keys, prefix applied.
#[derive(Debug)]
struct Keys {
    next_id: String,
    epoch: String,
    history: String,
    history_ts: String,
    feed: String,
    text: String,
    text_log: String,
    text_snap: String,
    nodes: String,
    node_prefix: String,
    node_seq: String,
}

impl Keys {
    fn new(prefix: &str) -> Self {
        let key = |name: &str| format!("{prefix}{name}");
        Self {
            next_id: key("next_id"),
            epoch: key("epoch"),
            history: key("history"),
            history_ts: key("history:ts"),
            feed: key("history:feed"),
            text: key("text"),
            text_log: key("text:log"),
            text_snap: key("text:snap"),
            nodes: key("nodes"),
            node_prefix: key("node:"),
            node_seq: key("node_seq"),
        }
    }
}

/// This node's users, as last written (or to be written) to Redis.
#[derive(Debug, Default)]
struct NodeUsers {
    count: u64,
    /// After [`RedisStore::shutdown`]: no longer written.
    stopped: bool,
}

/// The Redis backend (see the [module documentation](self)).
pub(crate) struct RedisStore {
    client: Client,
    conn: ConnectionManager,
    /// The URL, credentials masked.
    url: String,
    keys: Keys,
    retention: Retention,
    node_id: String,
    node_ttl: Duration,
    /// Held while writing the count so writes reach Redis in order.
    users: tokio::sync::Mutex<NodeUsers>,
    refresh: OnceLock<AbortHandle>,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("url", &self.url)
            .field("keys", &self.keys)
            .field("node_id", &self.node_id)
            .field("node_ttl", &self.node_ttl)
            .field("retention", &self.retention)
            .finish_non_exhaustive()
    }
}

impl Drop for RedisStore {
    fn drop(&mut self) {
        if let Some(refresh) = self.refresh.get() {
            refresh.abort();
        }
    }
}

/// The id at the start of a member (`{"id":N,…`), as the publish script
/// writes it.
/// Whether `n` is in one of `channels` (`None`: every channel). The
/// history is one sorted set for every channel, filtered as it is paged.
fn in_channels(n: &Notification, channels: Option<&[String]>) -> bool {
    channels.is_none_or(|c| c.contains(&n.channel))
}

fn member_id(member: &str) -> Option<u64> {
    let rest = member.strip_prefix(r#"{"id":"#)?;
    let end = rest.find(',')?;
    rest[..end].parse().ok()
}

/// Decodes a history member; `None` (with a warning) if it is not a
/// notification.
fn decode_member(member: &str, id: u64) -> Option<Notification> {
    match serde_json::from_str::<Notification>(member) {
        Ok(mut n) => {
            n.id = Some(id);
            Some(n)
        }
        Err(e) => {
            tracing::warn!(id, error = %e, "skipping an undecodable notification in the Redis history");
            None
        }
    }
}

/// Every third of the TTL, rewrites the node's count, until the store is
/// dropped.
async fn refresh_loop(store: Weak<RedisStore>, every: Duration) {
    loop {
        tokio::time::sleep(every).await;
        let Some(store) = store.upgrade() else {
            return;
        };
        if let Err(e) = store.refresh().await {
            tracing::warn!(error = %e, node = %store.node_id, "refreshing this node's user count in Redis failed");
        }
    }
}

impl RedisStore {
    /// Connects, takes a node id and starts the refresh task.
    pub(crate) async fn open(url: &str, options: RedisOptions) -> Result<Arc<Self>, StoreError> {
        let shown = redact_url(url);
        let url_err = |source| StoreError::RedisUrl {
            url: shown.clone(),
            source,
        };
        let info = url.into_connection_info().map_err(url_err)?;
        // The socketioxide Redis adapter needs RESP3 on the client it is
        // given, and this client is that one.
        let settings = info
            .redis_settings()
            .clone()
            .set_protocol(ProtocolVersion::RESP3);
        let client = Client::open(info.set_redis_settings(settings)).map_err(url_err)?;
        let connect_err = |source| StoreError::RedisConnect {
            url: shown.clone(),
            source,
        };
        let mut conn = ConnectionManager::new_with_config(client.clone(), manager_config())
            .await
            .map_err(connect_err)?;
        let keys = Keys::new(&options.prefix);
        let node_seq: u64 = redis::cmd("INCR")
            .arg(&keys.node_seq)
            .query_async(&mut conn)
            .await
            .map_err(connect_err)?;
        let node_ttl = options.node_ttl.max(MIN_NODE_TTL);
        let store = Arc::new(Self {
            client,
            conn,
            url: shown,
            keys,
            retention: options.retention,
            node_id: node_seq.to_string(),
            node_ttl,
            users: tokio::sync::Mutex::new(NodeUsers::default()),
            refresh: OnceLock::new(),
        });
        // Registers the node (and checks that scripts run) right away.
        store.refresh().await?;
        let task = tokio::spawn(refresh_loop(Arc::downgrade(&store), node_ttl / 3));
        let _ = store.refresh.set(task.abort_handle());
        tracing::debug!(url = %store.url, node = %store.node_id, prefix = %options.prefix, "Redis store open");
        Ok(store)
    }

    pub(crate) fn client(&self) -> &Client {
        &self.client
    }

    /// Runs the count script: writes `users` for this node unless it is
    /// stopped; returns the total.
    async fn write_count(&self, users: &NodeUsers) -> Result<u64, StoreError> {
        let node = if users.stopped { "" } else { &self.node_id };
        let ttl_ms = u64::try_from(self.node_ttl.as_millis()).unwrap_or(u64::MAX);
        let total: u64 = COUNT
            .key(&self.keys.nodes)
            .arg(&self.keys.node_prefix)
            .arg(node)
            .arg(users.count)
            .arg(ttl_ms)
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(total)
    }

    async fn refresh(&self) -> Result<(), StoreError> {
        let users = self.users.lock().await;
        if !users.stopped {
            self.write_count(&users).await?;
        }
        Ok(())
    }

    pub(crate) async fn user_connected(&self) -> Result<u64, StoreError> {
        let mut users = self.users.lock().await;
        users.count = users.count.saturating_add(1);
        self.write_count(&users).await
    }

    pub(crate) async fn user_disconnected(&self) -> Result<u64, StoreError> {
        let mut users = self.users.lock().await;
        users.count = users.count.saturating_sub(1);
        self.write_count(&users).await
    }

    pub(crate) async fn user_count(&self) -> Result<u64, StoreError> {
        let total: u64 = COUNT
            .key(&self.keys.nodes)
            .arg(&self.keys.node_prefix)
            .arg("")
            .arg(0)
            .arg(0)
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(total)
    }

    pub(crate) async fn shutdown(&self) -> Result<(), StoreError> {
        let mut users = self.users.lock().await;
        users.stopped = true;
        if let Some(refresh) = self.refresh.get() {
            refresh.abort();
        }
        redis::pipe()
            .atomic()
            .cmd("DEL")
            .arg(format!("{}{}", self.keys.node_prefix, self.node_id))
            .ignore()
            .cmd("SREM")
            .arg(&self.keys.nodes)
            .arg(&self.node_id)
            .ignore()
            .query_async::<()>(&mut self.conn.clone())
            .await?;
        Ok(())
    }

    pub(crate) async fn publish(
        &self,
        mut n: Notification,
        now_ms: u64,
    ) -> Result<Notification, StoreError> {
        n.id = None;
        n.timestamp = Some(now_ms);
        let json = serde_json::to_string(&n).map_err(StoreError::Encode)?;
        // The script splices `"id":N,` in after the `{`: it needs an object
        // with at least one key (a notification always has `title`).
        if !(json.starts_with('{') && json.len() > 2) {
            return Err(StoreError::Corrupt {
                what: "notification JSON".into(),
                detail: format!("not a non-empty object: {json}"),
            });
        }
        let id: u64 = PUBLISH
            .key(&self.keys.next_id)
            .key(&self.keys.history)
            .key(&self.keys.history_ts)
            .key(&self.keys.feed)
            .arg(json)
            .arg(now_ms)
            .arg(self.retention.max_count)
            .arg(FEED_LEN)
            .invoke_async(&mut self.conn.clone())
            .await?;
        n.id = Some(id);
        Ok(n)
    }

    pub(crate) async fn since(
        &self,
        after_id: u64,
        limit: usize,
        channels: Option<&[String]>,
        now_ms: u64,
    ) -> Result<Vec<Notification>, StoreError> {
        let cutoff = self.retention.cutoff(now_ms);
        let mut conn = self.conn.clone();
        let mut out = Vec::new();
        let mut cursor = after_id;
        while out.len() < limit {
            let want = (limit - out.len()).min(BATCH);
            let members: Vec<String> = redis::cmd("ZRANGEBYSCORE")
                .arg(&self.keys.history)
                .arg(format!("({cursor}"))
                .arg("+inf")
                .arg("LIMIT")
                .arg(0)
                .arg(want)
                .query_async(&mut conn)
                .await?;
            let fetched = members.len();
            let before = cursor;
            for member in members {
                let Some(id) = member_id(&member) else {
                    tracing::warn!(member, "skipping a foreign member of the Redis history");
                    continue;
                };
                cursor = cursor.max(id);
                if let Some(n) = decode_member(&member, id)
                    && n.timestamp.is_none_or(|t| t >= cutoff)
                    && in_channels(&n, channels)
                {
                    out.push(n);
                }
            }
            if fetched < want || cursor == before {
                break;
            }
        }
        Ok(out)
    }

    pub(crate) async fn recent(
        &self,
        limit: usize,
        channels: Option<&[String]>,
        now_ms: u64,
    ) -> Result<Vec<Notification>, StoreError> {
        let cutoff = self.retention.cutoff(now_ms);
        let mut conn = self.conn.clone();
        let mut out = Vec::new();
        let mut below: Option<u64> = None;
        while out.len() < limit {
            let want = (limit - out.len()).min(BATCH);
            let max = below.map_or_else(|| "+inf".to_owned(), |id| format!("({id}"));
            let members: Vec<String> = redis::cmd("ZREVRANGEBYSCORE")
                .arg(&self.keys.history)
                .arg(max)
                .arg("-inf")
                .arg("LIMIT")
                .arg(0)
                .arg(want)
                .query_async(&mut conn)
                .await?;
            let fetched = members.len();
            let before = below;
            for member in members {
                let Some(id) = member_id(&member) else {
                    tracing::warn!(member, "skipping a foreign member of the Redis history");
                    continue;
                };
                below = Some(below.map_or(id, |b| b.min(id)));
                if let Some(n) = decode_member(&member, id)
                    && n.timestamp.is_none_or(|t| t >= cutoff)
                    && in_channels(&n, channels)
                {
                    out.push(n);
                }
            }
            if fetched < want || below == before {
                break;
            }
        }
        out.reverse();
        Ok(out)
    }

    /// The history's epoch: made (`SET NX`) by the first node to ask after
    /// the data was created or lost, so a Redis that lost its data, and
    /// hands out ids from 1 again, has a new one.
    pub(crate) async fn epoch(&self) -> Result<String, StoreError> {
        // One round trip on every connect: `SET NX GET` (Redis 7) answers
        // the epoch already there, or nil when it just stored ours.
        let ours = super::new_epoch();
        let existing: Option<String> = redis::cmd("SET")
            .arg(&self.keys.epoch)
            .arg(&ours)
            .arg("NX")
            .arg("GET")
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(existing.unwrap_or(ours))
    }

    pub(crate) async fn last_id(&self) -> Result<u64, StoreError> {
        let last: Option<u64> = redis::cmd("GET")
            .arg(&self.keys.next_id)
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(last.unwrap_or(0))
    }

    pub(crate) async fn text(&self) -> Result<String, StoreError> {
        let text: Option<String> = redis::cmd("GET")
            .arg(&self.keys.text)
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(text.unwrap_or_default())
    }

    pub(crate) async fn set_text(&self, text: &str) -> Result<(), StoreError> {
        redis::cmd("SET")
            .arg(&self.keys.text)
            .arg(text)
            .query_async::<()>(&mut self.conn.clone())
            .await?;
        Ok(())
    }

    pub(crate) async fn text_log(&self) -> Result<(Vec<Vec<u8>>, TextMark), StoreError> {
        let mut conn = self.conn.clone();
        let (mark, snapshot): (Option<String>, Option<Vec<u8>>) = redis::cmd("HMGET")
            .arg(&self.keys.text_snap)
            .arg("mark")
            .arg("data")
            .query_async(&mut conn)
            .await?;
        let mut mark = mark.unwrap_or_else(|| NO_ENTRY.to_owned());
        let mut updates: Vec<Vec<u8>> = snapshot.into_iter().collect();
        loop {
            let entries: Vec<StreamEntry> = redis::cmd("XRANGE")
                .arg(&self.keys.text_log)
                .arg(format!("({mark}"))
                .arg("+")
                .arg("COUNT")
                .arg(BATCH)
                .query_async(&mut conn)
                .await?;
            let Some((last, _)) = entries.last() else {
                break;
            };
            mark = last.clone();
            updates.extend(
                entries
                    .into_iter()
                    .filter_map(|(_, fields)| entry_update(fields)),
            );
        }
        Ok((updates, TextMark::Stream(mark)))
    }

    pub(crate) async fn append_text(&self, update: Vec<u8>) -> Result<TextMark, StoreError> {
        let id: String = redis::cmd("XADD")
            .arg(&self.keys.text_log)
            .arg("*")
            .arg("u")
            .arg(update)
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(TextMark::Stream(id))
    }

    pub(crate) async fn append_text_after(
        &self,
        last: TextMark,
        record: Vec<u8>,
    ) -> Result<Option<TextMark>, StoreError> {
        let TextMark::Stream(last) = last else {
            return Ok(None);
        };
        let id: Option<String> = APPEND_TEXT_AFTER
            .key(&self.keys.text_log)
            .arg(&last)
            .arg(record)
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(id.map(TextMark::Stream))
    }

    pub(crate) async fn compact_text(
        &self,
        upto: TextMark,
        snapshot: Vec<u8>,
    ) -> Result<(), StoreError> {
        let TextMark::Stream(upto) = upto else {
            return Ok(());
        };
        // Entries stay a minute past the snapshot, for a node still reading them.
        let keep_from = super::unix_now_ms().saturating_sub(60_000);
        COMPACT_TEXT
            .key(&self.keys.text_snap)
            .key(&self.keys.text_log)
            .arg(&upto)
            .arg(snapshot)
            .arg(format!("{keep_from}-0"))
            .invoke_async::<i64>(&mut self.conn.clone())
            .await?;
        Ok(())
    }

    /// Reads the log after `after` on a connection of its own (`XREAD
    /// BLOCK`), reconnecting after errors, until the receiver is dropped.
    pub(crate) fn watch_text(
        &self,
        after: TextMark,
    ) -> tokio::sync::mpsc::Receiver<(Vec<u8>, TextMark)> {
        let (tx, rx) = tokio::sync::mpsc::channel(256);
        let mark = match after {
            TextMark::Stream(id) => id,
            TextMark::Seq(_) => NO_ENTRY.to_owned(),
        };
        let follow = follow_stream(
            self.client.clone(),
            self.keys.text_log.clone(),
            mark,
            "shared text: following other nodes' edits",
            move |read| {
                let tx = tx.clone();
                async move {
                    if let StreamRead::Entries(entries) = read {
                        for (id, fields) in entries {
                            if let Some(update) = entry_update(fields)
                                && tx.send((update, TextMark::Stream(id))).await.is_err()
                            {
                                return false;
                            }
                        }
                    }
                    !tx.is_closed()
                }
            },
        );
        tokio::spawn(follow);
        rx
    }

    /// Wakes the receiver whenever a node stores a notification (`XREAD
    /// BLOCK` on `history:feed`, on a connection of its own), and after
    /// every reconnect (what was stored meanwhile is in the history),
    /// until the receiver is dropped. Every wake means: read the history
    /// after what you have delivered.
    pub(crate) fn watch_history(&self) -> tokio::sync::mpsc::Receiver<()> {
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        // "$": entries added from now on.
        let follow = follow_stream(
            self.client.clone(),
            self.keys.feed.clone(),
            "$".to_owned(),
            "notifications: following other nodes' publishes",
            move |read| {
                let wake = match read {
                    StreamRead::Connected => true,
                    StreamRead::Entries(entries) => !entries.is_empty(),
                };
                // Full: a wake is pending already, which covers this one.
                if wake {
                    let _ = tx.try_send(());
                }
                std::future::ready(!tx.is_closed())
            },
        );
        tokio::spawn(follow);
        rx
    }

    pub(crate) async fn prune(&self, now_ms: u64) -> Result<u64, StoreError> {
        let removed: u64 = PRUNE
            .key(&self.keys.next_id)
            .key(&self.keys.history)
            .key(&self.keys.history_ts)
            .arg(self.retention.cutoff(now_ms))
            .arg(self.retention.max_count)
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_ids() {
        assert_eq!(member_id(r#"{"id":42,"title":"t"}"#), Some(42));
        assert_eq!(member_id(r#"{"title":"t","id":42}"#), None);
        assert_eq!(member_id(r#"{"id":-1,"title":"t"}"#), None);
        assert_eq!(member_id("garbage"), None);
    }

    #[test]
    fn keys_use_the_prefix() {
        let keys = Keys::new("p:");
        assert_eq!(keys.next_id, "p:next_id");
        assert_eq!(keys.history, "p:history");
        assert_eq!(keys.history_ts, "p:history:ts");
        assert_eq!(keys.text, "p:text");
        assert_eq!(keys.nodes, "p:nodes");
        assert_eq!(keys.node_prefix, "p:node:");
        assert_eq!(keys.node_seq, "p:node_seq");
    }

    #[test]
    fn defaults() {
        let o = RedisOptions::default();
        assert_eq!(o.prefix, "pushdesk:");
        assert_eq!(o.node_ttl, Duration::from_secs(30));
        assert_eq!(o.retention, Retention::default());
    }
}
