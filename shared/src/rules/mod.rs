//! The optimizer's judgement, free of I/O: rules judged on an entity's windows of
//! insights (`evaluate`), with the statistics that keep small numbers from deciding
//! (`stats`). The optimizer and the rules API (preview) read the facts and call these.

pub mod audience;
pub mod evaluate;
pub mod guards;
pub mod impact;
pub mod presets;
pub mod stats;
