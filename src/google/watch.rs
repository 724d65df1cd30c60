//! Push notifications: a `users.watch` channel per directory, renewed before it expires, and
//! what a notification Google posts does (its route is `http::google_watch`). A notification
//! only queues the changed user; the instance that holds the directory's lease re-reads it, so
//! any instance behind a load balancer may take the notification.

use chrono::{DateTime, NaiveDateTime};
use rand::RngCore;
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use thiserror::Error;

use super::{GoogleError, Puller};
use crate::store::{self, Store, google::WatchChannel};

/// Where Google posts a directory's notifications, under the public URL.
pub const ROUTE: &str = "/google/notifications/{directory}";

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn address(public_url: &str, directory_id: &str) -> String {
    format!("{public_url}{}", ROUTE.replace("{directory}", directory_id))
}

/// When to renew a channel Google granted from `opened` until `expires`: a tenth of the
/// granted lifetime before it ends, at least 30 s (a sync may keep the puller busy) and at
/// most an hour before, but never before half its life. The lifetime is Google's, not the
/// one asked for: Google may grant less, and a margin taken from the asked lifetime would
/// exceed a short granted one and renew the channel on every tick.
pub fn renew_at(opened: NaiveDateTime, expires: NaiveDateTime) -> NaiveDateTime {
    let lifetime = (expires - opened).num_seconds().max(0);
    let margin = (lifetime / 10).clamp(30, 3600).min(lifetime / 2);
    expires - chrono::Duration::seconds(margin)
}

/// Whether the directory needs a channel now: it has none, or its renewal time has come.
pub fn channel_due(
    store: &Store,
    directory_id: &str,
    now: NaiveDateTime,
) -> Result<bool, GoogleError> {
    let renew = store.read(|c| store::google::watch_renew_at(c, directory_id))?;
    Ok(renew.is_none_or(|r| r <= now))
}

/// Opens a channel when the directory has none or its channel is due for renewal, then stops
/// the old one. Runs under the directory's lease.
pub fn ensure_channel(
    puller: &Puller<'_>,
    public_url: &str,
    ttl_secs: u64,
    now: NaiveDateTime,
) -> Result<bool, GoogleError> {
    let id = puller.row.directory_id.as_str();
    if !channel_due(puller.store, id, now)? {
        return Ok(false);
    }
    let row = puller
        .store
        .read(|c| store::google::find(c, id))?
        .ok_or_else(|| GoogleError::NotGoogle(puller.directory.name.clone()))?;
    let channel_id = uuid::Uuid::new_v4().to_string();
    let mut secret = [0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    let token = hex::encode(secret);
    let body = json!({
        "id": channel_id,
        "type": "web_hook",
        "address": address(public_url, id),
        "token": token,
        "params": {"ttl": ttl_secs.to_string()},
    });
    let (param, value) = puller.target().param();
    let answer = puller
        .api
        .post(
            "admin/directory/v1/users/watch",
            &[(param, value.as_str())],
            &body,
        )?
        .ok_or_else(|| GoogleError::NotFound("users/watch".into()))?;
    // `expiration` is milliseconds since the epoch, as a string in Google's JSON.
    let expires = answer["expiration"]
        .as_str()
        .and_then(|s| s.parse::<i64>().ok())
        .or_else(|| answer["expiration"].as_i64())
        .and_then(DateTime::from_timestamp_millis)
        .map(|t| t.naive_utc())
        .unwrap_or(now + chrono::Duration::seconds(ttl_secs as i64));
    let channel = WatchChannel {
        watch_channel_id: Some(channel_id),
        watch_resource_id: answer["resourceId"].as_str().map(str::to_string),
        watch_token_hash: Some(hash(&token)),
        watch_expires_at: Some(expires),
        watch_renew_at: Some(renew_at(now, expires)),
    };
    puller
        .store
        .write(|c| store::google::set_watch(c, id, &channel))?;
    if let Some(old) = row.watch_channel_id {
        let stop = json!({"id": old, "resourceId": row.watch_resource_id});
        if let Err(e) = puller
            .api
            .post("admin/directory_v1/channels/stop", &[], &stop)
        {
            tracing::info!(error = %e, "could not stop the previous push channel; it expires on its own");
        }
    }
    Ok(true)
}

/// A push notification as Google posts it: the directory from the address, the channel's
/// headers, and the user id from the body.
pub struct Notification {
    pub directory_id: String,
    pub channel_id: String,
    pub token: String,
    pub resource_state: String,
    pub user_id: Option<String>,
}

#[derive(Debug, Error)]
pub enum NotificationError {
    /// The directory is not a Google directory, or the channel id or token is not its current
    /// channel's. One fault for all of these, so that an answer never tells which directory
    /// ids exist.
    #[error("unknown push channel")]
    UnknownChannel,
    #[error(transparent)]
    Google(#[from] GoogleError),
}

/// Checks a notification against the directory's current channel, ignores the `sync` message
/// every new channel starts with, and queues the user it names for the lease holder.
pub fn notify(
    store: &Store,
    n: &Notification,
    now: NaiveDateTime,
) -> Result<(), NotificationError> {
    let token_hash = hash(&n.token);
    let row = store
        .read(|c| store::google::find(c, &n.directory_id))
        .map_err(GoogleError::from)?;
    let known = row.is_some_and(|row| {
        let channel_ok = row.watch_channel_id.as_deref() == Some(n.channel_id.as_str());
        let token_ok = row
            .watch_token_hash
            .as_deref()
            .is_some_and(|h| bool::from(h.as_bytes().ct_eq(token_hash.as_bytes())));
        channel_ok && token_ok
    });
    if !known {
        tracing::warn!(directory = %n.directory_id, "push notification with an unknown directory, channel or token refused");
        return Err(NotificationError::UnknownChannel);
    }
    if n.resource_state == "sync" {
        return Ok(());
    }
    if let Some(user) = &n.user_id {
        store
            .read(|c| store::google::add_pending(c, &n.directory_id, user, now))
            .map_err(GoogleError::from)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renewal_follows_the_granted_lifetime() {
        let t = chrono::DateTime::from_timestamp(1_800_000_000, 0)
            .unwrap()
            .naive_utc();
        let after = |s: i64| t + chrono::Duration::seconds(s);
        for (granted, renew) in [
            (21_600, 21_600 - 2160),
            (86_400, 86_400 - 3600),
            (600, 540),
            (60, 30),
            (33, 17),
            (0, 0),
        ] {
            assert_eq!(
                renew_at(t, after(granted)),
                after(renew),
                "granted {granted} s"
            );
        }
    }
}
