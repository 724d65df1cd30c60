//! JumpCloud's custom SCIM integration (`idp-behaviour.md` §4). Its request bodies are not
//! published; what is known the RFC layer already takes:
//!
//! - Test Connection creates a test user and a test group, then DELETEs them (§4, vendor doc);
//! - member adds are repeated, and adding a member twice changes nothing (§4, Infisical #2138).

use super::Adapter;

pub struct JumpCloud;

impl Adapter for JumpCloud {}
