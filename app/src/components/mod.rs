pub mod layout;
pub mod signed_in;
