//! Sessions. Signup and login open a refresh-token family; refresh rotates within it,
//! and presenting an already-rotated token revokes the whole family (it was stolen or
//! replayed). Every answer that grants access has the same shape.

use chrono::{Duration, Utc};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};
use shared::auth::password;
use shared::auth::refresh::RefreshToken;
use shared::db::Tenant;
use shared::domain::billing::Tier;
use shared::domain::{Email, Fields, Password, PersonName, Phone, TokenFamilyId, UserId};
use shared::error::{AppError, Problem};
use shared::http::docs::{AuthThrottled, InvalidInput, NotJson};
use shared::http::{json, json_body, no_content};
use shared::repo::throttle;
use shared::repo::users::{NewUser, User};
use shared::repo::{refresh_tokens, subscriptions, system_config, users};
use utoipa::ToSchema;

use crate::State;

#[derive(Serialize, ToSchema)]
pub struct Session {
    user: shared::api::users::User,
    access_token: String,
    refresh_token: String,
    token_type: &'static str,
    expires_in: i64,
}

const BAD_CREDENTIALS: AppError = AppError::Unauthenticated {
    code: "invalid_credentials",
    detail: "The email or password is incorrect.",
};

const BAD_REFRESH: AppError = AppError::Unauthenticated {
    code: "invalid_refresh_token",
    detail: "The refresh token is invalid, expired or revoked. Log in again.",
};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignupBody {
    email: Option<String>,
    password: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    phone: Option<String>,
}

struct Signup {
    email: Email,
    password: Password,
    first_name: Option<String>,
    last_name: Option<String>,
    phone: Option<String>,
}

fn parse_signup(body: SignupBody) -> Result<Signup, AppError> {
    let mut f = Fields::default();
    let email = f
        .required("email", body.email)
        .and_then(|e| f.check("email", Email::parse(&e)));
    let password = f
        .required("password", body.password)
        .and_then(|p| f.check("password", Password::parse(p)));
    let mut optional = |field: &str, raw: Option<String>, parse: fn(&str) -> Result<String, _>| {
        raw.and_then(|v| f.check(field, parse(&v)))
    };
    let first_name = optional("first_name", body.first_name, |v| {
        PersonName::parse(v).map(PersonName::into_inner)
    });
    let last_name = optional("last_name", body.last_name, |v| {
        PersonName::parse(v).map(PersonName::into_inner)
    });
    let phone = optional("phone", body.phone, |v| {
        Phone::parse(v).map(Phone::into_inner)
    });
    f.finish()?;
    Ok(Signup {
        email: email.expect("checked"),
        password: password.expect("checked"),
        first_name,
        last_name,
        phone,
    })
}

#[utoipa::path(post, path = "/v1/auth/signup", tag = "auth", request_body = SignupBody,
    responses(
        (status = 201, description = "Account created; a session", body = Session),
        NotJson,
        (status = 409, description = "Email already registered", body = Problem, content_type = "application/problem+json"),
        InvalidInput,
        AuthThrottled,
    ))]
/// `POST /v1/auth/signup` → 201 with a session. New accounts start a starter trial.
pub async fn signup(state: &State, req: &Request) -> Result<Response<Body>, AppError> {
    let input = parse_signup(json_body(req)?)?;
    let hash = password::hash(&input.password).await?;
    let trial_ends_at = Utc::now() + Duration::days(state.trial_days);
    let session = state
        .db
        .new_account(UserId::new(), async |t| {
            let user = users::insert(
                t,
                &NewUser {
                    email: &input.email,
                    password_hash: &hash,
                    first_name: input.first_name.clone(),
                    last_name: input.last_name.clone(),
                    phone: input.phone.clone(),
                    trial_ends_at,
                },
            )
            .await?;
            let credits = system_config::tier_credits(t, Tier::Starter).await?;
            subscriptions::start_trial(t, credits, trial_ends_at).await?;
            open_session(state, t, user, TokenFamilyId::new()).await
        })
        .await?;
    tracing::info!(user_id = %session.user.id, "signed up");
    json(StatusCode::CREATED, &session)
}

/// The 429 for an email whose failed logins must wait.
fn throttled(retry_at: chrono::DateTime<chrono::Utc>) -> AppError {
    AppError::RateLimited {
        code: "login_throttled",
        detail: "Too many failed sign-ins for this email. Wait a little before trying again."
            .into(),
        retry_at,
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    email: Option<String>,
    password: Option<String>,
}

#[utoipa::path(post, path = "/v1/auth/login", tag = "auth", request_body = LoginBody,
    responses(
        (status = 200, description = "A session", body = Session),
        NotJson,
        (status = 401, description = "Wrong email or password", body = Problem, content_type = "application/problem+json"),
        InvalidInput,
        AuthThrottled,
    ))]
/// `POST /v1/auth/login`. A wrong email and a wrong password get the same answer. Each
/// attempt counts against the email before the password is checked; from the 5th
/// failure in a row the next must wait 1 s, then 2, 4, ... up to 15 minutes (429).
pub async fn login(state: &State, req: &Request) -> Result<Response<Body>, AppError> {
    let body: LoginBody = json_body(req)?;
    let mut f = Fields::default();
    let email = f.required("email", body.email);
    let plain = f.required("password", body.password);
    f.finish()?;
    let (Some(email), Some(plain)) = (email, plain) else {
        unreachable!("checked above")
    };
    let key = throttle::email_key(&email);
    let found = state
        .db
        .public(async |p| {
            if let Some(retry_at) = throttle::login_attempt(p, &key).await? {
                return Err(throttled(retry_at));
            }
            match Email::parse(&email) {
                Ok(email) => users::find_login(p, &email).await,
                Err(_) => Ok(None),
            }
        })
        .await?;
    let (user_id, stored) = found.map_or((None, None), |(id, hash)| (Some(id), Some(hash)));
    if !password::verify(&plain, stored).await? {
        return Err(BAD_CREDENTIALS);
    }
    let user_id = user_id.ok_or(BAD_CREDENTIALS)?;
    let session = state
        .db
        .tenant(user_id, async |t| {
            let user = users::record_login(t).await?.ok_or(BAD_CREDENTIALS)?;
            throttle::login_succeeded(t, &key).await?;
            open_session(state, t, user, TokenFamilyId::new()).await
        })
        .await?;
    tracing::info!(user_id = %user_id, "logged in");
    json(StatusCode::OK, &session)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshBody {
    refresh_token: Option<String>,
}

fn parse_refresh(req: &Request) -> Result<Option<RefreshToken>, AppError> {
    let body: RefreshBody = json_body(req)?;
    let mut f = Fields::default();
    let raw = f.required("refresh_token", body.refresh_token);
    f.finish()?;
    Ok(raw.as_deref().and_then(RefreshToken::parse))
}

enum Rotation {
    Rotated(Box<Session>),
    Refused,
}

#[utoipa::path(post, path = "/v1/auth/refresh", tag = "auth", request_body = RefreshBody,
    responses(
        (status = 200, description = "A new session; the token sent is used up", body = Session),
        NotJson,
        (status = 401, description = "Token invalid, expired, revoked or reused", body = Problem, content_type = "application/problem+json"),
        InvalidInput,
        AuthThrottled,
    ))]
/// `POST /v1/auth/refresh`: a new session for a usable refresh token, which is used up.
pub async fn refresh(state: &State, req: &Request) -> Result<Response<Body>, AppError> {
    let presented = parse_refresh(req)?.ok_or(BAD_REFRESH)?;
    let outcome = state
        .db
        .tenant(presented.user, async |t| {
            let Some(stored) = refresh_tokens::find_for_update(t, &presented.hash()).await? else {
                return Ok(Rotation::Refused);
            };
            if stored.rotated_at.is_some() && stored.revoked_at.is_none() {
                // A used token came back: whoever holds the family is not to be trusted.
                let n = refresh_tokens::revoke_family(t, stored.family).await?;
                tracing::warn!(user_id = %t.user(), revoked = n, "refresh token reuse; family revoked");
                return Ok(Rotation::Refused);
            }
            if !stored.is_usable(Utc::now()) {
                return Ok(Rotation::Refused);
            }
            let Some(user) = users::find(t).await? else {
                return Ok(Rotation::Refused);
            };
            refresh_tokens::mark_rotated(t, stored.id).await?;
            Ok(Rotation::Rotated(Box::new(open_session(state, t, user, stored.family).await?)))
        })
        .await?;
    match outcome {
        Rotation::Rotated(session) => json(StatusCode::OK, &session),
        Rotation::Refused => Err(BAD_REFRESH),
    }
}

#[utoipa::path(post, path = "/v1/auth/logout", tag = "auth", request_body = RefreshBody,
    responses(
        (status = 204, description = "The session is over"),
        NotJson,
        InvalidInput,
        AuthThrottled,
    ))]
/// `POST /v1/auth/logout`: ends the session the refresh token belongs to. Answers 204
/// whether or not the token was still live, so it cannot be used to probe tokens.
pub async fn logout(state: &State, req: &Request) -> Result<Response<Body>, AppError> {
    if let Some(presented) = parse_refresh(req)? {
        state
            .db
            .tenant(presented.user, async |t| {
                if let Some(stored) = refresh_tokens::find_for_update(t, &presented.hash()).await? {
                    refresh_tokens::revoke_family(t, stored.family).await?;
                }
                Ok(())
            })
            .await?;
    }
    Ok(no_content())
}

async fn open_session(
    state: &State,
    t: &Tenant<'_>,
    user: User,
    family: TokenFamilyId,
) -> Result<Session, AppError> {
    let refresh = RefreshToken::generate(t.user());
    let expires_at = Utc::now() + Duration::days(state.refresh_ttl_days);
    refresh_tokens::insert(t, family, &refresh.hash(), expires_at).await?;
    Ok(Session {
        access_token: state.tokens.issue(t.user())?,
        refresh_token: refresh.token,
        token_type: "Bearer",
        expires_in: state.tokens.ttl_seconds(),
        user: user.into(),
    })
}
