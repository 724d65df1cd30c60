//! One-time setup links (docs/setup-page.md): the operator makes one for a directory and sends
//! it to the customer's IT admin, whose browser then needs no account. The link's secret is
//! a bearer secret like a token: only its SHA-256 is stored, the row is found by the hash and
//! compared again in constant time, and the CSRF token of the page's forms is a keyed hash of
//! the secret, so it is bound to the link and needs no storage. A link reveals a SCIM token
//! once.

use chrono::{Duration, NaiveDateTime};
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::error::{DomainError, DomainResult};
use super::ids::{DirectoryId, TenantId};
use super::tenancy::{self, Directory, DirectoryKind};
use super::token::{self, IssuedToken, TokenSecret, hash};
use crate::store::setup_links::SetupLinkRow;
use crate::store::{self, Store};

/// Recognisable in a leaked mail or chat, like every other Roster secret.
pub const LINK_PREFIX: &str = "roster_setup_";

/// How long a link works when the operator does not say.
pub const DEFAULT_LIFETIME: Duration = Duration::days(7);

/// The longest a link may work: it is a bearer secret sent by mail.
pub const MAX_LIFETIME: Duration = Duration::days(90);

/// Whether a link opens its page: only a `Live` one does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum LinkState {
    Live,
    Expired,
    Revoked,
}

impl LinkState {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkState::Live => "live",
            LinkState::Expired => "expired",
            LinkState::Revoked => "revoked",
        }
    }
}

/// A link as listings show it: never its secret nor its hash.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SetupLinkInfo {
    pub id: String,
    #[schema(value_type = String)]
    pub tenant_id: TenantId,
    #[schema(value_type = String)]
    pub directory_id: DirectoryId,
    /// The link's prefix and the first six characters of its secret.
    pub hint: String,
    /// Times are UTC, without an offset.
    #[schema(value_type = String)]
    pub created_at: NaiveDateTime,
    #[schema(value_type = String)]
    pub expires_at: NaiveDateTime,
    #[schema(value_type = Option<String>)]
    pub revoked_at: Option<NaiveDateTime>,
    /// When the page showed the SCIM token it issued; a link reveals one token only.
    #[schema(value_type = Option<String>)]
    pub token_revealed_at: Option<NaiveDateTime>,
    pub state: LinkState,
}

impl SetupLinkInfo {
    fn of(row: SetupLinkRow, now: NaiveDateTime) -> SetupLinkInfo {
        let state = match (row.revoked_at, row.expires_at <= now) {
            (Some(_), _) => LinkState::Revoked,
            (None, true) => LinkState::Expired,
            (None, false) => LinkState::Live,
        };
        SetupLinkInfo {
            id: row.id,
            tenant_id: TenantId::from_raw(row.tenant_id),
            directory_id: DirectoryId::from_raw(row.directory_id),
            hint: row.hint,
            created_at: row.created_at,
            expires_at: row.expires_at,
            revoked_at: row.revoked_at,
            token_revealed_at: row.token_revealed_at,
            state,
        }
    }
}

/// A link just made: the secret is shown this once.
#[derive(Debug)]
pub struct NewLink {
    pub info: SetupLinkInfo,
    pub secret: TokenSecret,
}

/// Makes a link to `directory`'s setup page that works for `lifetime`.
pub fn create(
    store: &Store,
    directory: &Directory,
    lifetime: Duration,
    now: NaiveDateTime,
) -> DomainResult<NewLink> {
    if lifetime <= Duration::zero() || lifetime > MAX_LIFETIME {
        return Err(DomainError::Invalid(format!(
            "a setup link works for more than 0s and at most {}d",
            MAX_LIFETIME.num_days()
        )));
    }
    let secret = token::generate(LINK_PREFIX);
    let row = SetupLinkRow {
        id: uuid::Uuid::now_v7().to_string(),
        tenant_id: directory.tenant_id.to_string(),
        directory_id: directory.id.to_string(),
        secret_hash: hash(secret.expose()),
        hint: secret.hint(LINK_PREFIX),
        created_at: now,
        expires_at: now + lifetime,
        revoked_at: None,
        token_revealed_at: None,
        token_id: None,
    };
    store.write(|conn| store::setup_links::insert(conn, &row))?;
    Ok(NewLink {
        info: SetupLinkInfo::of(row, now),
        secret,
    })
}

pub fn list(
    store: &Store,
    directory: &Directory,
    now: NaiveDateTime,
) -> DomainResult<Vec<SetupLinkInfo>> {
    let rows = store.read(|conn| store::setup_links::list(conn, directory.id.as_str()))?;
    Ok(rows
        .into_iter()
        .map(|r| SetupLinkInfo::of(r, now))
        .collect())
}

/// Revokes the directory's link `id` (again, harmlessly, when it is revoked already); the
/// page refuses it from the next request on.
pub fn revoke(
    store: &Store,
    directory: &Directory,
    id: &str,
    now: NaiveDateTime,
) -> DomainResult<SetupLinkInfo> {
    let row =
        store.write(|conn| store::setup_links::revoke(conn, directory.id.as_str(), id, now))?;
    row.map(|r| SetupLinkInfo::of(r, now))
        .ok_or_else(|| DomainError::NotFound {
            kind: "setup link",
            id: id.to_string(),
        })
}

/// Why a link does not open its page. The page says which, and nothing about the directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Unknown,
    Expired,
    Revoked,
}

/// A live link and its directory.
#[derive(Debug, Clone)]
pub struct OpenLink {
    pub info: SetupLinkInfo,
    pub directory: Directory,
    /// The token its page's forms carry.
    pub csrf: String,
}

impl OpenLink {
    /// Whether a form's token is this link's, in constant time.
    pub fn csrf_matches(&self, presented: &str) -> bool {
        self.csrf.as_bytes().ct_eq(presented.as_bytes()).into()
    }
}

fn csrf_of(secret: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .expect("HMAC-SHA256 takes a key of any length");
    mac.update(b"roster setup page csrf");
    hex::encode(mac.finalize().into_bytes())
}

/// The live link whose secret is `presented`, or why there is none.
pub fn open(
    store: &Store,
    presented: &str,
    now: NaiveDateTime,
) -> DomainResult<Result<OpenLink, Refusal>> {
    if !presented.starts_with(LINK_PREFIX) {
        return Ok(Err(Refusal::Unknown));
    }
    let presented_hash = hash(presented);
    let Some(row) = store.read(|conn| store::setup_links::find_by_hash(conn, &presented_hash))?
    else {
        return Ok(Err(Refusal::Unknown));
    };
    if !token::same_hash(&row.secret_hash, &presented_hash) {
        return Ok(Err(Refusal::Unknown));
    }
    let info = SetupLinkInfo::of(row, now);
    match info.state {
        LinkState::Revoked => return Ok(Err(Refusal::Revoked)),
        LinkState::Expired => return Ok(Err(Refusal::Expired)),
        LinkState::Live => {}
    }
    // A directory being deleted or gone makes its links unknown, not an error page that
    // tells the reader it existed.
    let Some(directory) = tenancy::directory_by_id(store, info.directory_id.as_str())? else {
        return Ok(Err(Refusal::Unknown));
    };
    Ok(Ok(OpenLink {
        info,
        directory,
        csrf: csrf_of(presented),
    }))
}

/// Issues a new SCIM token for the link's directory, through the token command, and marks
/// the link revealed in the same transaction; `None` when the link revealed one already.
pub fn reveal_token(
    store: &Store,
    link: &OpenLink,
    now: NaiveDateTime,
) -> DomainResult<Option<IssuedToken>> {
    if link.directory.kind == DirectoryKind::Google {
        return Err(DomainError::Invalid(
            "a Google Workspace directory pulls; it takes a service-account key, not a token"
                .into(),
        ));
    }
    store.write(|conn| -> DomainResult<Option<IssuedToken>> {
        if !store::setup_links::mark_revealed(conn, &link.info.id, now)? {
            return Ok(None);
        }
        let issued = token::issue_in(conn, &link.directory, now)?;
        store::setup_links::set_token(conn, &link.info.id, issued.id.as_str())?;
        Ok(Some(issued))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_follows_revocation_then_expiry() {
        let now = chrono::DateTime::from_timestamp(1_800_000_000, 0)
            .unwrap()
            .naive_utc();
        let row = |expires: i64, revoked: bool| SetupLinkRow {
            id: "l".into(),
            tenant_id: "t".into(),
            directory_id: "d".into(),
            secret_hash: "h".into(),
            hint: "roster_setup_abcdef".into(),
            created_at: now - Duration::days(1),
            expires_at: now + Duration::seconds(expires),
            revoked_at: revoked.then_some(now),
            token_revealed_at: None,
            token_id: None,
        };
        for (expires, revoked, want) in [
            (60, false, LinkState::Live),
            (0, false, LinkState::Expired),
            (-60, false, LinkState::Expired),
            (60, true, LinkState::Revoked),
            (-60, true, LinkState::Revoked),
        ] {
            assert_eq!(
                SetupLinkInfo::of(row(expires, revoked), now).state,
                want,
                "expires in {expires}s, revoked {revoked}"
            );
        }
    }

    #[test]
    fn the_csrf_token_is_bound_to_the_link() {
        let (a, b) = (csrf_of("roster_setup_a"), csrf_of("roster_setup_b"));
        assert_ne!(a, b);
        assert_eq!(a, csrf_of("roster_setup_a"));
        assert!(!a.contains("roster_setup_a"));
    }
}
