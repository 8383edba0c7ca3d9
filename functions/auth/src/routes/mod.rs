//! The auth routes: sessions (signup, login, refresh, logout) and the caller's account.

pub mod me;
pub mod session;

pub use me::{delete_me, me, update_me};
pub use session::{login, logout, refresh, signup};
