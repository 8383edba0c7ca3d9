//! The connected Facebook Page's voice: its recent posts summarised (how often it posts,
//! average engagement, its most engaging posts, its hashtags). Optional: without a Meta
//! connection, a Page or the `pages_read_engagement` permission the analysis goes on
//! without it and records why.

use shared::crypto::TokenCipher;
use shared::domain::profile::PageSummary;
use shared::meta::Graph;
use shared::meta::pages::{PagePosts, recent_posts};

pub const POSTS: u32 = 25;

/// The Graph client and the key that opens the user's stored token.
pub struct Meta {
    pub graph: Graph,
    pub cipher: TokenCipher,
}

impl Meta {
    /// Configured when the Meta app and token keys are; None otherwise.
    pub fn from_env() -> Option<Self> {
        Some(Self {
            graph: Graph::from_env().ok()?,
            cipher: TokenCipher::from_env().ok()?,
        })
    }

    /// The Page's summary; Err says why there is none, in a person's words.
    pub async fn summary(&self, user_token: &str) -> Result<PageSummary, String> {
        match recent_posts(&self.graph, user_token, POSTS).await {
            Ok(Some(p)) => Ok(summarise(&p)),
            Ok(None) => Err("the Meta account has no Facebook Page".into()),
            Err(e) => Err(format!(
                "Meta refused to list the Page's posts: {}",
                e.message
            )),
        }
    }
}

fn clip(s: &str, max: usize) -> String {
    let s = s.trim();
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}

pub fn summarise(p: &PagePosts) -> PageSummary {
    let n = p.posts.len();
    let mut times: Vec<chrono::DateTime<chrono::FixedOffset>> = p
        .posts
        .iter()
        .filter_map(|post| {
            chrono::DateTime::parse_from_str(&post.created_time, "%Y-%m-%dT%H:%M:%S%z").ok()
        })
        .collect();
    times.sort();
    let weeks = match (times.first(), times.last()) {
        (Some(a), Some(b)) => ((*b - *a).num_hours() as f32 / (24.0 * 7.0)).max(1.0),
        _ => 1.0,
    };
    let mut ranked: Vec<_> = p
        .posts
        .iter()
        .filter(|post| post.message.is_some())
        .collect();
    ranked.sort_by_key(|post| std::cmp::Reverse(post.engagement()));
    let mut hashtags: Vec<(String, usize)> = Vec::new();
    for word in p
        .posts
        .iter()
        .filter_map(|post| post.message.as_deref())
        .flat_map(str::split_whitespace)
    {
        if let Some(tag) = word.strip_prefix('#') {
            let tag: String = tag
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if tag.is_empty() {
                continue;
            }
            let tag = format!("#{}", tag.to_lowercase());
            match hashtags.iter_mut().find(|(t, _)| *t == tag) {
                Some((_, c)) => *c += 1,
                None => hashtags.push((tag, 1)),
            }
        }
    }
    hashtags.sort_by_key(|(_, c)| std::cmp::Reverse(*c));
    let total: i64 = p.posts.iter().map(|post| post.engagement()).sum();
    PageSummary {
        page_id: p.page_id.clone(),
        name: p.page_name.clone(),
        posts_read: n as u32,
        since: times.first().map(|t| t.to_rfc3339()),
        until: times.last().map(|t| t.to_rfc3339()),
        posts_per_week: ((n as f32 / weeks) * 10.0).round() / 10.0,
        average_engagement: if n == 0 {
            0.0
        } else {
            ((total as f32 / n as f32) * 10.0).round() / 10.0
        },
        top_posts: ranked
            .iter()
            .take(3)
            .filter_map(|post| post.message.as_deref().map(|m| clip(m, 280)))
            .collect(),
        hashtags: hashtags.into_iter().take(8).map(|(t, _)| t).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::meta::pages::Post;

    fn post(message: &str, created: &str, reactions: i64) -> Post {
        Post {
            message: Some(message.into()),
            created_time: created.into(),
            reactions,
            comments: 2,
            shares: 1,
        }
    }

    #[test]
    fn a_pages_posts_become_frequency_engagement_top_posts_and_hashtags() {
        let s = summarise(&PagePosts {
            page_id: "1".into(),
            page_name: Some("Bean There".into()),
            posts: vec![
                post(
                    "New single-origin from Coorg #coffee #Pune",
                    "2026-11-28T09:00:00+0000",
                    40,
                ),
                post(
                    "Weekend brunch is back #brunch #coffee",
                    "2026-11-21T09:00:00+0000",
                    100,
                ),
                post("Monsoon menu", "2026-11-14T09:00:00+0000", 7),
            ],
        });
        assert_eq!((s.posts_read, s.posts_per_week), (3, 1.5));
        assert_eq!(s.average_engagement, 52.0);
        assert_eq!(s.top_posts[0], "Weekend brunch is back #brunch #coffee");
        assert_eq!(s.hashtags[0], "#coffee");
        assert_eq!(s.since.as_deref(), Some("2026-11-14T09:00:00+00:00"));
    }
}
