//! Rippling's custom SCIM apps (`idp-behaviour.md` §6). Only the configuration surface is
//! sourced: bearer token, SCIM 2.0, optional groups edited by PATCH or PUT, and (3rd-party) a
//! Test Connection that reads `/ServiceProviderConfig` and checks its required fields, which
//! Roster serves as RFC 7643 §5 defines them. No request body Rippling sends is published, so
//! there is nothing to adapt.

use super::Adapter;

pub struct Rippling;

impl Adapter for Rippling {}
