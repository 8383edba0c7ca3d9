//! Routes of the generations function beside `POST /v1/generations`.

pub mod generations;
pub mod jobs;
