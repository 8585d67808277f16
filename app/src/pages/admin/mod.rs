pub mod audit;
pub mod customers;
pub mod mail;
pub mod overview;
pub mod peeringdb;
pub mod users;
