//! [`ReconnectingDriver`]: the Redis pub/sub under socketioxide-redis's
//! adapter (user counts, and notifications the store could not keep, reach
//! the other nodes' sockets through it), on a redis `ConnectionManager`:
//! after Redis restarts it reconnects and subscribes to its channels again.
//! socketioxide-redis's own driver holds one connection for life, so one
//! Redis restart broke every broadcast of the node until it was restarted.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncCommands as _, PushInfo, PushKind, RedisError, Value};
use socketioxide_redis::drivers::{ChanItem, Driver, MessageStream};
use tokio::sync::mpsc;
use tracing::{debug, warn};

type Handlers = HashMap<String, mpsc::Sender<ChanItem>>;

/// How often an idle driver checks its connection (a manager that stopped
/// retrying tries again on the next command).
const KEEPALIVE: Duration = Duration::from_secs(2);

/// socketioxide-redis's pub/sub driver, reconnecting (see the module
/// documentation). Clones share the connection and the subscriptions.
#[derive(Clone)]
pub struct ReconnectingDriver {
    handlers: Arc<RwLock<Handlers>>,
    conn: ConnectionManager,
}

impl std::fmt::Debug for ReconnectingDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReconnectingDriver").finish_non_exhaustive()
    }
}

/// Passes one pushed message to the stream of its channel.
fn dispatch(handlers: &RwLock<Handlers>, push: PushInfo) {
    if !matches!(push.kind, PushKind::Message | PushKind::SMessage) {
        return;
    }
    let mut data = push.data.into_iter();
    let (Some(channel), Some(message)) = (data.next(), data.next()) else {
        return;
    };
    let (Ok(channel), Ok(message)) = (
        redis::from_redis_value::<String>(channel),
        redis::from_redis_value::<Vec<u8>>(message),
    ) else {
        debug!("an unreadable pub/sub message: skipped");
        return;
    };
    let handlers = handlers
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(tx) = handlers.get(&channel)
        && let Err(e) = tx.try_send((channel, message))
    {
        warn!(error = %e, "a Redis pub/sub message was dropped: the adapter is not keeping up");
    }
}

impl ReconnectingDriver {
    /// Connects (`client` must speak RESP3, for pushed messages).
    pub async fn new(client: &redis::Client) -> Result<Self, RedisError> {
        let handlers = Arc::new(RwLock::new(Handlers::new()));
        let h = handlers.clone();
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(5)))
            .set_response_timeout(Some(Duration::from_secs(5)))
            .set_max_delay(Duration::from_secs(2))
            .set_push_sender(move |push: PushInfo| {
                dispatch(&h, push);
                Ok::<(), Infallible>(())
            })
            .set_automatic_resubscription();
        let conn = client.get_connection_manager_with_config(config).await?;
        tokio::spawn(keepalive(Arc::downgrade(&handlers), conn.clone()));
        Ok(Self { handlers, conn })
    }
}

/// Pings now and then while any clone of the driver lives, so that a
/// connection lost while nothing was published is found and remade.
async fn keepalive(alive: Weak<RwLock<Handlers>>, mut conn: ConnectionManager) {
    loop {
        tokio::time::sleep(KEEPALIVE).await;
        if alive.upgrade().is_none() {
            return;
        }
        if let Err(e) = redis::cmd("PING").query_async::<Value>(&mut conn).await {
            debug!(error = %e, "Redis pub/sub: ping failed; reconnecting");
        }
    }
}

impl Driver for ReconnectingDriver {
    type Error = RedisError;

    async fn publish(&self, chan: String, val: Vec<u8>) -> Result<(), Self::Error> {
        self.conn.clone().publish::<_, _, Value>(chan, val).await?;
        Ok(())
    }

    async fn subscribe(
        &self,
        chan: String,
        size: usize,
    ) -> Result<MessageStream<ChanItem>, Self::Error> {
        let (tx, rx) = mpsc::channel(size);
        self.handlers
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(chan.clone(), tx);
        self.conn.clone().subscribe(chan.as_str()).await?;
        Ok(MessageStream::new(rx))
    }

    async fn unsubscribe(&self, chan: String) -> Result<(), Self::Error> {
        self.handlers
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&chan);
        self.conn.clone().unsubscribe(chan).await?;
        Ok(())
    }

    async fn num_serv(&self, chan: &str) -> Result<u16, Self::Error> {
        let (_, count): (String, u16) = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg(chan)
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(count)
    }
}
