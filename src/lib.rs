//! Roster: a self-hosted SCIM 2.0 directory-sync server. Layers, outermost first:
//! `http` → `scim` → `domain` → `store` (see DESIGN.md).

pub mod api;
pub mod cli;
pub mod config;
pub mod console;
pub mod delivery;
pub mod domain;
pub mod google;
pub mod http;
pub mod idp;
pub mod replay;
pub mod scim;
pub mod store;
