//! One integration-test binary: every test starts a real `roster serve` over a fresh database
//! and speaks HTTP to it, once on SQLite and once on PostgreSQL.

mod support;

mod adapters;
mod admin_api;
mod bounds;
mod bulk;
mod cli;
mod concurrency;
mod console;
mod corpus;
mod custom_attributes;
mod deprovisioning;
mod directory_removal;
mod discovery;
mod errors;
mod events;
mod extensions;
mod fake_google;
mod google;
mod google_settings;
mod groups;
mod health;
mod help;
mod instances;
mod isolation;
mod logs;
mod metrics;
mod migrations;
mod openapi;
mod ordering;
mod rate_limit;
mod read_api;
mod receiver;
mod request_log;
mod roles;
mod setup_page;
mod shutdown;
mod users;
mod webhooks;
