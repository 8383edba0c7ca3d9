//! Matching a request path against a route pattern such as `/v1/assets/{}`: each `{}`
//! captures one path segment.

use uuid::Uuid;

use crate::error::AppError;

/// The captured segments when `path` matches `pattern`, else `None`.
pub fn at<'p, const N: usize>(pattern: &str, path: &'p str) -> Option<[&'p str; N]> {
    let mut captured = [""; N];
    let mut n = 0;
    let mut segments = path.trim_end_matches('/').split('/');
    for want in pattern.split('/') {
        let got = segments.next()?;
        if want == "{}" {
            if got.is_empty() || n == N {
                return None;
            }
            captured[n] = got;
            n += 1;
        } else if want != got {
            return None;
        }
    }
    (segments.next().is_none() && n == N).then_some(captured)
}

/// A path id: anything that is not a UUID names no resource, so it is a 404.
pub fn parse_id(segment: &str) -> Result<Uuid, AppError> {
    Uuid::try_parse(segment).map_err(|_| AppError::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_capture_segments() {
        assert_eq!(at::<0>("/v1/assets", "/v1/assets"), Some([]));
        assert_eq!(at::<0>("/v1/assets", "/v1/assets/"), Some([]));
        assert_eq!(at::<1>("/v1/assets/{}", "/v1/assets/abc"), Some(["abc"]));
        assert_eq!(
            at::<2>("/v1/campaigns/{}/assets/{}", "/v1/campaigns/c/assets/a"),
            Some(["c", "a"])
        );
        assert_eq!(at::<1>("/v1/assets/{}", "/v1/assets"), None);
        assert_eq!(at::<1>("/v1/assets/{}", "/v1/assets/a/download"), None);
        assert_eq!(at::<0>("/v1/assets", "/v1/assetsx"), None);
    }
}
