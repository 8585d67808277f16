pub mod audit;
pub mod customers;
pub mod peeringdb;
pub mod users;
