//! The campaign routes: the campaign itself and its creatives. Talking to Meta
//! (launch, pause/resume, estimates) is `crate::meta`.

pub mod assets;
pub mod campaigns;
