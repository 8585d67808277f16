pub mod audit;
pub mod customers;
pub mod mail;
pub mod peeringdb;
pub mod users;
