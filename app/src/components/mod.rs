pub mod activity;
pub mod audit;
pub mod console;
pub mod layout;
pub mod signed_in;
