//! Tests across the whole HTTP API live in `tests/`: the tenant-isolation matrix calls
//! every route the OpenAPI document lists, through the function `template.yaml` wires it
//! to, as another user. This crate has no code of its own.
