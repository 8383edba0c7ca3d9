//! Fetching the open web from inside our network. A URL a user gives us (a website to
//! learn a brand from) is an SSRF hole unless every hop is checked: `target` decides
//! whether a URL may be fetched at all and which addresses it may reach; `fetcher`
//! (feature `outbound`) connects only to those checked addresses, follows at most five
//! redirects (each checked again, never https → http), stops slow servers and caps
//! bodies. `FETCH_ALLOW_HOSTS` lets local development reach its own site simulator.

#[cfg(feature = "outbound")]
pub mod fetcher;
pub mod target;
pub mod website;

pub use target::{AllowHosts, Refusal, Target, forbidden_ip, resolve, target};
