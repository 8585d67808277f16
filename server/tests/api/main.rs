//! Integration tests: the real router on a real database, over real HTTP.
//! One binary with modules (faster to link, shares the helpers).

mod helpers;

mod access;
mod backup;
mod binary;
mod cli;
mod console;
mod hardening;
mod mail;
mod mailsink;
mod metrics;
mod oidc;
mod health;
mod invitations;
mod ixf;
mod password_login;
mod peeringdb;
mod rendering;
mod replicas;
mod reset;
mod resync;
mod security;
mod sessions;
mod tokens;
mod two_factor;
