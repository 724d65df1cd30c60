//! Resource documents: request bodies in (canonical form, `canonical.rs`), stored values kept
//! on a replace (`immutable.rs`), responses out (projection, `projection.rs`), and the
//! client-supplied attribute names all three resolve (`names.rs`).
//!
//! [`canonicalize`] turns a POST/PUT body (or a document after PATCH) into the one form Roster
//! stores, so that equal resources give equal documents:
//!
//! - attribute names take the schema's spelling (names are case-insensitive, RFC 7643 §2.1);
//!   extension attributes sit under their extension's URN, spelled as the schema spells it. A
//!   top-level key written as a URN-qualified name (`urn:…:enterprise:2.0:User:department`) is
//!   folded into its extension object; one qualified with the core URN into the top level;
//! - `null`, `[]` and `{}` mean "unassigned" (RFC 7643 §2.5) and are dropped;
//! - values are type-checked against the schema, recursively; a wrong type is `invalidValue`
//!   naming the attribute. A single value where an array is expected is an error too: leniency
//!   for particular identity providers belongs in their adapters, not here;
//! - attributes and sub-attributes that are `readOnly` (`id`, `meta`, `groups`,
//!   `manager.displayName`) are dropped silently, since clients may send back what they read
//!   (RFC 7643 §3.1, §7). `writeOnly` attributes (`password`) are dropped too: Roster never
//!   stores them (nor, in the raw body, anything else `secret::is_secret`);
//! - unknown attributes, unknown sub-attributes of known complex attributes, and URN keys that
//!   name no extension of the resource type are dropped, not errors (identity providers send
//!   vendor attributes freely);
//! - `schemas` is rewritten: the core URN, then each extension URN whose object is non-empty;
//! - a Group's `members` leave the document and come back as [`Canonical::members`], since
//!   membership is stored apart from the document.
//!
//! [`Projection`] and [`project`] implement `attributes` / `excludedAttributes`
//! (RFC 7644 §3.4.2.5, §3.9) together with each attribute's `returned` characteristic; an
//! attribute `secret::is_secret` calls a secret is never returned.

mod canonical;
mod immutable;
mod names;
mod projection;

pub use canonical::{Canonical, MemberKind, MemberRef, canonicalize, members_from_value};
pub use immutable::keep_immutable;
pub(crate) use names::{get_ci, resolve_dotted, split_qualified};
pub use projection::{Projection, project};
