//! RFC 7644 as written: nothing rewritten, the default replies. The harmless bends every IdP
//! shares need no adapter, because the RFC layer reads them as the RFC allows: `op` names and
//! filter operators in any case, `"$ref": null` in a member, a trailing `&` or `?` and `+`
//! for spaces in a query string, `/users` and trailing slashes.

use super::Adapter;

pub struct Generic;

impl Adapter for Generic {}
