//! The user's Facebook Page and its recent posts (`/me/accounts` for the Page and its
//! token, then `/{page}/posts` with reactions, comments and shares counted), which the
//! brand analysis summarises. Needs `pages_read_engagement`, an optional scope.

use serde::Deserialize;

use super::graph::{Graph, GraphError};

#[derive(Debug, Deserialize)]
struct Count {
    #[serde(default)]
    total_count: i64,
}

#[derive(Debug, Deserialize)]
struct Summarised {
    summary: Option<Count>,
}

#[derive(Debug, Deserialize)]
struct Shares {
    #[serde(default)]
    count: i64,
}

#[derive(Debug, Deserialize)]
struct RawPost {
    message: Option<String>,
    created_time: String,
    reactions: Option<Summarised>,
    comments: Option<Summarised>,
    shares: Option<Shares>,
}

/// One post with its engagement.
#[derive(Clone, Debug, PartialEq)]
pub struct Post {
    /// The post's text, if any.
    pub message: Option<String>,
    /// When it was posted (Meta's ISO 8601).
    pub created_time: String,
    /// Reactions, total.
    pub reactions: i64,
    /// Comments, total.
    pub comments: i64,
    /// Shares.
    pub shares: i64,
}

impl Post {
    /// Reactions, comments and shares together.
    pub fn engagement(&self) -> i64 {
        self.reactions + self.comments + self.shares
    }
}

/// A Facebook Page and its recent posts.
pub struct PagePosts {
    /// Meta's page id.
    pub page_id: String,
    /// The page's name.
    pub page_name: Option<String>,
    /// Its newest posts, as Meta lists them.
    pub posts: Vec<Post>,
}

fn count(s: &Option<Summarised>) -> i64 {
    s.as_ref()
        .and_then(|s| s.summary.as_ref())
        .map_or(0, |c| c.total_count)
}

/// The first Page's newest posts (at most `limit`); None when the user has no Page.
pub async fn recent_posts(
    graph: &Graph,
    user_token: &str,
    limit: u32,
) -> Result<Option<PagePosts>, GraphError> {
    let pages = graph
        .get(
            "me/accounts",
            user_token,
            &[("fields", "id,name,access_token".into())],
        )
        .await?;
    let page = &pages.body["data"][0];
    let (Some(id), Some(page_token)) = (page["id"].as_str(), page["access_token"].as_str()) else {
        return Ok(None);
    };
    let fields = "message,created_time,shares,reactions.summary(total_count).limit(0),\
                  comments.summary(total_count).limit(0)";
    let reply = graph
        .get(
            &format!("{id}/posts"),
            page_token,
            &[("fields", fields.into()), ("limit", limit.to_string())],
        )
        .await?;
    let raw: Vec<RawPost> = serde_json::from_value(reply.body["data"].clone()).unwrap_or_default();
    Ok(Some(PagePosts {
        page_id: id.to_owned(),
        page_name: page["name"].as_str().map(str::to_owned),
        posts: raw
            .into_iter()
            .map(|p| Post {
                reactions: count(&p.reactions),
                comments: count(&p.comments),
                shares: p.shares.map_or(0, |s| s.count),
                message: p.message,
                created_time: p.created_time,
            })
            .collect(),
    }))
}
