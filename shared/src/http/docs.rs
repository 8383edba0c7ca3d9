//! The error responses most routes share, for their OpenAPI annotations:
//! `responses((status = 200, …), NotAuthenticated, NotJson, InvalidInput)`.

use std::collections::BTreeMap;

use utoipa::openapi::{ContentBuilder, RefOr, Response, ResponseBuilder};
use utoipa::{IntoResponses, ToSchema};

use crate::error::Problem;

fn problem(status: &str, description: &str) -> BTreeMap<String, RefOr<Response>> {
    let content = ContentBuilder::new()
        .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
            Problem::name(),
        ))))
        .build();
    let response = ResponseBuilder::new()
        .description(description)
        .content("application/problem+json", content)
        .build();
    BTreeMap::from([(status.to_owned(), RefOr::T(response))])
}

macro_rules! problem_response {
    ($(#[$doc:meta])* $name:ident, $status:literal, $description:literal) => {
        $(#[$doc])*
        pub struct $name;

        impl IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<Response>> {
                problem($status, $description)
            }
        }
    };
}

problem_response!(
    /// 401: no valid bearer token.
    NotAuthenticated, "401", "Not authenticated"
);
/// 400: the body is not a JSON object; 413: it is over 64 KiB.
pub struct NotJson;

impl IntoResponses for NotJson {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let mut r = problem("400", "Body is not JSON");
        r.extend(problem("413", "Body over 64 KiB"));
        r
    }
}
problem_response!(
    /// 422: invalid fields or parameters, each named.
    InvalidInput, "422", "Invalid fields or parameters"
);
problem_response!(
    /// 429 on `/v1/auth/*`: too many requests from the client's address in a minute
    /// (`too_many_requests`) or, on login, too many failures for the email
    /// (`login_throttled`); `Retry-After` says when to try again.
    AuthThrottled, "429", "Too many sign-in requests from this address, or failed logins for this email; see Retry-After"
);
problem_response!(
    /// 502: a provider (Meta, Razorpay, Stripe, Google) refused or failed; its own
    /// message is in `detail`.
    UpstreamError, "502", "A provider refused or failed; its message is in detail"
);
problem_response!(
    /// 404: no such resource of the caller's (another user's is not found either).
    NotFound, "404", "Not found, or not yours"
);
