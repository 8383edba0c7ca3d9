//! One notification as an email: multipart (plain text and HTML), addressed with the
//! business's name, a link to act in the app, and the category's unsubscribe link (also
//! as `List-Unsubscribe`, one-click per RFC 8058).

use shared::repo::notifications::Outgoing;

pub struct Email {
    pub subject: String,
    pub text: String,
    pub html: String,
    pub unsubscribe_url: String,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `app_url` is the web app's origin, `unsubscribe_url` the signed link.
pub fn render(o: &Outgoing, app_url: &str, unsubscribe_url: String) -> Email {
    let n = &o.notification;
    let greeting = match &o.business_name {
        Some(b) => format!("Hi {b},"),
        None => "Hi,".to_owned(),
    };
    let action = n
        .link
        .as_ref()
        .map(|l| format!("{}{l}", app_url.trim_end_matches('/')));
    let label = n.category.label();
    let mut text = format!("{greeting}\n\n{}\n", n.body);
    if let Some(a) = &action {
        text.push_str(&format!("\nOpen in Adpilot: {a}\n"));
    }
    text.push_str(&format!(
        "\n--\nYou get this email about {label} from Adpilot.\nUnsubscribe from {label} emails: {unsubscribe_url}\n"
    ));
    let button = action.as_ref().map_or(String::new(), |a| {
        format!(
            "<p><a href=\"{}\" style=\"background:#1a73e8;color:#fff;padding:10px 16px;border-radius:6px;text-decoration:none\">Open in Adpilot</a></p>",
            escape(a)
        )
    });
    let html = format!(
        "<!doctype html><html><body style=\"font-family:Arial,sans-serif;color:#222\">\
         <p>{}</p><h2 style=\"font-size:18px\">{}</h2><p>{}</p>{button}\
         <hr><p style=\"font-size:12px;color:#666\">You get this email about {label} from Adpilot. \
         <a href=\"{}\">Unsubscribe from {label} emails</a>.</p></body></html>",
        escape(&greeting),
        escape(&n.title),
        escape(&n.body).replace('\n', "<br>"),
        escape(&unsubscribe_url),
    );
    Email {
        subject: n.title.clone(),
        text,
        html,
        unsubscribe_url,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::domain::notification::Category;
    use shared::repo::notifications::Notification;

    #[test]
    fn both_parts_carry_the_greeting_the_action_and_the_unsubscribe_link_and_html_is_escaped() {
        let o = Outgoing {
            notification: Notification {
                id: uuid::Uuid::nil(),
                category: Category::AdReview,
                title: "An ad was rejected".into(),
                body: "Meta said: <b>prohibited</b> & more".into(),
                link: Some("/campaigns/c1".into()),
                read_at: None,
                created_at: chrono::Utc::now(),
            },
            to: "owner@example.com".into(),
            business_name: Some("Chai & Co".into()),
            attempts: 0,
        };
        let e = render(
            &o,
            "https://app.example/",
            "https://api.example/u?token=t".into(),
        );
        assert_eq!(e.subject, "An ad was rejected");
        assert!(
            e.text
                .starts_with("Hi Chai & Co,\n\nMeta said: <b>prohibited</b> & more\n")
        );
        assert!(
            e.text
                .contains("Open in Adpilot: https://app.example/campaigns/c1")
        );
        assert!(
            e.text
                .contains("Unsubscribe from ad review emails: https://api.example/u?token=t")
        );
        assert!(
            e.html.contains("Hi Chai &amp; Co,")
                && e.html.contains("&lt;b&gt;prohibited&lt;/b&gt; &amp; more")
        );
        assert!(e.html.contains("href=\"https://api.example/u?token=t\""));
    }
}
