//! PingFederate's SCIM Provisioner and PingOne's SCIM connector (`idp-behaviour.md` §5). What
//! is documented the RFC layer already takes:
//!
//! - filter operators and attribute names in any case, as in PingOne's own example
//!   `username Eq "%s"` (§5.2; RFC 7644 §3.4.2.2 makes both case-insensitive). Its other
//!   example, `email Co "%s"`, names no SCIM attribute and is refused as `invalidFilter`: the
//!   set-up guide has the admin write `emails co "%s"`;
//! - users replaced whole by PUT, never PATCHed, disabled by `active: false` or deleted
//!   (§5.1); created disabled with "Provision Disabled Users" (§5.1);
//! - groups found by listing them all, page by page (§5.1), and changed by PATCH (§5.1).

use super::Adapter;

pub struct Ping;

impl Adapter for Ping {}
