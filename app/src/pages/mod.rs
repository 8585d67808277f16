pub mod account;
pub mod admin;
pub mod choose;
pub mod dashboard;
pub mod login;
pub mod not_found;
pub mod reset;
pub mod two_factor;
