//! The brand's voice and guidelines: written by Gemini from what was extracted, with a
//! JSON response schema so the answer has one shape, or — when no model key is
//! configured, or the model fails or answers out of shape — by rules over the same facts.
//! Either way the result says which wrote it.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use shared::config::{optional, or_default};
use shared::domain::profile::{BrandGuidelines, BrandVoice, MessagingPatterns, Tone};
use shared::outbound::LazyHttp;

/// What the voice is written from.
#[derive(Debug, Serialize)]
pub struct Facts<'a> {
    pub business: Option<&'a str>,
    pub messaging: &'a MessagingPatterns,
    pub primary: Option<&'a str>,
    pub heading_font: Option<&'a str>,
    pub text_sample: String,
}

#[derive(Debug, Deserialize)]
struct Written {
    tone: Tone,
    style: String,
    personality: String,
    dos: Vec<String>,
    donts: Vec<String>,
    key_phrases: Vec<String>,
    summary: String,
}

pub struct Voice {
    pub voice: BrandVoice,
    pub guidelines: BrandGuidelines,
    /// `gemini` or `rules`, and why rules were used.
    pub written_by: String,
}

/// Gemini's text model, when a key is configured.
#[derive(Clone)]
pub struct Gemini {
    http: LazyHttp,
    base: String,
    key: String,
    model: String,
}

impl Gemini {
    pub fn from_env() -> Option<Self> {
        let key = optional("GEMINI_API_KEY").filter(|k| !k.is_empty())?;
        Some(Self {
            http: LazyHttp::with_timeout(Duration::from_secs(20)),
            base: or_default(
                "GEMINI_API_URL",
                "https://generativelanguage.googleapis.com/v1beta",
            )
            .trim_end_matches('/')
            .to_owned(),
            key,
            model: or_default("GEMINI_TEXT_MODEL", "gemini-2.5-flash"),
        })
    }

    async fn write(&self, facts: &Facts<'_>) -> Result<Written, String> {
        let prompt = format!(
            "You are a brand strategist. From these facts about a small business's website, \
             describe its brand voice and write short guidelines for its ads. Use only what the \
             facts support.\nFacts: {}",
            serde_json::to_string(facts).map_err(|e| e.to_string())?
        );
        let body = json!({
            "contents": [{"role": "user", "parts": [{"text": prompt}]}],
            "generationConfig": {
                "responseMimeType": "application/json",
                "responseSchema": response_schema(),
                "temperature": 0.2,
            }
        });
        let url = format!("{}/models/{}:generateContent", self.base, self.model);
        let res = self
            .http
            .client()
            .post(url)
            .header("x-goog-api-key", &self.key)
            .json(&body)
            .send()
            .await
            .map_err(|e| format!("gemini: {e}"))?;
        let status = res.status();
        let answer: Value = res.json().await.map_err(|e| format!("gemini: {e}"))?;
        if !status.is_success() {
            return Err(format!(
                "gemini answered {status}: {}",
                answer["error"]["message"].as_str().unwrap_or("no message")
            ));
        }
        let text = answer["candidates"][0]["content"]["parts"][0]["text"]
            .as_str()
            .ok_or("gemini: the answer has no text")?;
        serde_json::from_str(text).map_err(|e| format!("gemini: answer out of shape: {e}"))
    }
}

/// Gemini's `responseSchema` (an OpenAPI subset) for `Written`.
fn response_schema() -> Value {
    let list = json!({"type": "ARRAY", "items": {"type": "STRING"}, "maxItems": 6});
    json!({
        "type": "OBJECT",
        "properties": {
            "tone": {"type": "STRING", "enum": ["professional", "friendly", "playful", "luxurious", "bold", "caring", "authoritative"]},
            "style": {"type": "STRING"},
            "personality": {"type": "STRING"},
            "dos": list, "donts": list, "key_phrases": list,
            "summary": {"type": "STRING"}
        },
        "required": ["tone", "style", "personality", "dos", "donts", "key_phrases", "summary"]
    })
}

fn clip(s: &str, max: usize) -> String {
    s.trim().chars().take(max).collect()
}

fn from_written(w: Written) -> (BrandVoice, BrandGuidelines) {
    let list = |v: Vec<String>, max: usize| -> Vec<String> {
        v.iter()
            .map(|s| clip(s, max))
            .filter(|s| !s.is_empty())
            .take(8)
            .collect()
    };
    (
        BrandVoice {
            tone: Some(w.tone),
            style: Some(clip(&w.style, 100)).filter(|s| !s.is_empty()),
            personality: Some(clip(&w.personality, 100)).filter(|s| !s.is_empty()),
        },
        BrandGuidelines {
            dos: list(w.dos, 300),
            donts: list(w.donts, 300),
            summary: Some(clip(&w.summary, 2000)).filter(|s| !s.is_empty()),
            key_phrases: list(w.key_phrases, 200),
        },
    )
}

/// The voice: Gemini's when configured and it answers in shape, else the rules'.
pub async fn write(gemini: Option<&Gemini>, facts: &Facts<'_>) -> Voice {
    let why_rules = match gemini {
        None => "no model key is configured".to_owned(),
        Some(g) => match g.write(facts).await {
            Ok(w) => {
                let (voice, guidelines) = from_written(w);
                return Voice {
                    voice,
                    guidelines,
                    written_by: "gemini".into(),
                };
            }
            Err(e) => {
                tracing::warn!(error = %e, "the model could not write the brand voice; using rules");
                e
            }
        },
    };
    let (voice, guidelines) = by_rules(facts);
    Voice {
        voice,
        guidelines,
        written_by: format!("rules ({why_rules})"),
    }
}

const TONE_WORDS: [(Tone, &[&str]); 6] = [
    (
        Tone::Caring,
        &[
            "care",
            "caring",
            "gentle",
            "patient",
            "health",
            "comfort",
            "family",
            "wellbeing",
        ],
    ),
    (
        Tone::Luxurious,
        &[
            "luxury",
            "premium",
            "exclusive",
            "finest",
            "bespoke",
            "elegant",
            "indulge",
        ],
    ),
    (
        Tone::Playful,
        &["fun", "yum", "love", "happy", "treat", "delicious", "!"],
    ),
    (
        Tone::Bold,
        &["fastest", "ultimate", "unbeatable", "#1", "now", "power"],
    ),
    (
        Tone::Professional,
        &[
            "solutions",
            "services",
            "professional",
            "expert",
            "clients",
            "quality",
            "certified",
        ],
    ),
    (
        Tone::Friendly,
        &[
            "welcome",
            "neighbourhood",
            "neighborhood",
            "community",
            "friendly",
            "local",
            "together",
        ],
    ),
];

fn personality(tone: Tone) -> &'static str {
    match tone {
        Tone::Caring => "warm and reassuring",
        Tone::Luxurious => "refined and confident",
        Tone::Playful => "cheerful and lively",
        Tone::Bold => "energetic and direct",
        Tone::Professional => "competent and clear",
        Tone::Friendly => "approachable and local",
        Tone::Authoritative => "expert and measured",
    }
}

/// The deterministic voice: the tone whose words the site uses most, the sentence
/// length and person it writes in, and guidelines built from its own phrases.
pub fn by_rules(facts: &Facts<'_>) -> (BrandVoice, BrandGuidelines) {
    let text = facts.text_sample.to_lowercase();
    let tone = TONE_WORDS
        .iter()
        .map(|(tone, words)| {
            (
                *tone,
                words.iter().map(|w| text.matches(w).count()).sum::<usize>(),
            )
        })
        .filter(|(_, n)| *n > 0)
        .max_by_key(|(_, n)| *n)
        .map_or(Tone::Friendly, |(t, _)| t);
    let words = text.split_whitespace().count().max(1);
    let sentences = text.matches(['.', '!', '?']).count().max(1);
    let you = text
        .split_whitespace()
        .filter(|w| w.trim_matches(|c: char| !c.is_alphabetic()) == "you")
        .count();
    let length = if words / sentences <= 12 {
        "short, direct sentences"
    } else {
        "flowing sentences"
    };
    let person = if you * 50 >= words {
        ", speaking to the customer as \"you\""
    } else {
        ""
    };
    let style = format!("{length}{person}");
    let m = facts.messaging;
    let name = facts.business.unwrap_or("the business");
    let mut dos = Vec::new();
    if let Some(hero) = &m.hero_headline {
        dos.push(format!("Lead with what the site leads with: \"{hero}\""));
    }
    if let Some(cta) = m.calls_to_action.first() {
        dos.push(format!(
            "End with a clear call to action in the site's words, such as \"{cta}\""
        ));
    }
    if let Some(p) = facts.primary {
        dos.push(format!("Make {p} the dominant colour of every creative"));
    }
    if let Some(f) = facts.heading_font {
        dos.push(format!("Set headlines in {f} or a close match"));
    }
    if let Some(c) = m.claims.first() {
        dos.push(format!("Back messages with the site's own claims: \"{c}\""));
    }
    let donts = vec![
        "Don't make claims, prices or offers the website does not make".to_owned(),
        "Don't use colours far from the brand palette".to_owned(),
        format!(
            "Don't sound unlike {name}: keep the tone {}",
            personality(tone)
        ),
    ];
    let summary = format!(
        "{name} sounds {}: {style}. {}",
        personality(tone),
        m.description.clone().unwrap_or_default()
    );
    (
        BrandVoice {
            tone: Some(tone),
            style: Some(clip(&style, 100)),
            personality: Some(personality(tone).to_owned()),
        },
        BrandGuidelines {
            dos,
            donts,
            summary: Some(clip(&summary, 2000)),
            key_phrases: m.key_phrases.clone(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn without_a_model_key_the_rules_write_a_caring_voice_for_a_clinic() {
        let messaging = MessagingPatterns {
            hero_headline: Some("Gentle dental care for the whole family".into()),
            calls_to_action: vec!["Book an appointment".into()],
            ..MessagingPatterns::default()
        };
        let facts = Facts {
            business: Some("Smile Clinic"),
            messaging: &messaging,
            primary: Some("#0A7E8C"),
            heading_font: Some("Nunito"),
            text_sample:
                "Gentle dental care for the whole family. Our patients feel at ease. We care."
                    .into(),
        };
        let v = write(None, &facts).await;
        assert_eq!(v.voice.tone, Some(Tone::Caring));
        assert!(v.written_by.starts_with("rules"));
        assert!(v.guidelines.dos.iter().any(|d| d.contains("#0A7E8C")));
        assert!(
            v.guidelines
                .dos
                .iter()
                .any(|d| d.contains("Book an appointment"))
        );
    }
}
