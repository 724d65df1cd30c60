//! RFC 7644 as written: nothing rewritten, the default replies.

use super::Adapter;

pub struct Generic;

impl Adapter for Generic {}
