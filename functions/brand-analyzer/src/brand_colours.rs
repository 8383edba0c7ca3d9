//! From every colour the site uses to the brand's palette. Each sighting is an
//! observation with a weight and its evidence (a `--brand` custom property, a button's
//! background, the header, the logo's own pixels, `theme-color`); sightings closer than
//! CIEDE2000 3 are one colour. Greys and status colours (an error red, a success green)
//! are never brand colours, and `primary` stays empty unless the evidence reaches
//! `MIN_PRIMARY_SCORE`: a site with one stray coloured link has no primary colour.

use shared::domain::profile::{ColorPalette, ColourRole, ContrastPair, PaletteColour};

use crate::colour::Rgb;

/// One sighting of a colour.
#[derive(Clone, Debug)]
pub struct Observation {
    pub colour: Rgb,
    pub weight: f32,
    pub evidence: String,
    /// The site says what the colour is for (a custom property's name, body text).
    pub hint: Option<ColourRole>,
    /// Seen only as an error, warning or success state.
    pub status: bool,
}

/// Below this many points of evidence nothing is called the primary colour.
pub const MIN_PRIMARY_SCORE: f32 = 4.0;
/// Colours closer than this are the same colour.
pub const SAME_COLOUR: f32 = 3.0;
/// Secondary and accent must differ from primary (and each other) at least this much.
const DISTINCT: f32 = 10.0;

#[derive(Clone, Debug)]
struct Cluster {
    /// The colour of its strongest single sighting (a `--primary` over a stray near-twin).
    colour: Rgb,
    strongest: f32,
    score: f32,
    evidence: Vec<String>,
    hints: Vec<(ColourRole, f32)>,
    status_weight: f32,
    brand_weight: f32,
}

impl Cluster {
    fn hinted(&self, role: ColourRole) -> f32 {
        self.hints
            .iter()
            .filter(|(r, _)| *r == role)
            .map(|(_, w)| w)
            .sum()
    }

    fn is_status(&self) -> bool {
        self.status_weight > self.brand_weight
    }
}

fn merge(observations: &[Observation]) -> Vec<Cluster> {
    let mut clusters: Vec<Cluster> = Vec::new();
    for o in observations {
        let i = clusters
            .iter()
            .position(|c| c.colour.distance(o.colour) < SAME_COLOUR)
            .unwrap_or_else(|| {
                clusters.push(Cluster {
                    colour: o.colour,
                    strongest: 0.0,
                    score: 0.0,
                    evidence: Vec::new(),
                    hints: Vec::new(),
                    status_weight: 0.0,
                    brand_weight: 0.0,
                });
                clusters.len() - 1
            });
        let c = &mut clusters[i];
        if o.weight > c.strongest {
            c.strongest = o.weight;
            c.colour = o.colour;
        }
        c.score += o.weight;
        if !c.evidence.contains(&o.evidence) && c.evidence.len() < 12 {
            c.evidence.push(o.evidence.clone());
        }
        if let Some(role) = o.hint {
            c.hints.push((role, o.weight));
        }
        if o.status {
            c.status_weight += o.weight;
        } else {
            c.brand_weight += o.weight;
        }
    }
    clusters.sort_by(|a, b| b.score.total_cmp(&a.score));
    clusters
}

/// The best cluster hinted for `role` (by hint weight, then score).
fn hinted(clusters: &[Cluster], role: ColourRole, taken: &[usize]) -> Option<usize> {
    (0..clusters.len())
        .filter(|i| !taken.contains(i) && clusters[*i].hinted(role) > 0.0)
        .max_by(|a, b| {
            let (ca, cb) = (&clusters[*a], &clusters[*b]);
            (ca.hinted(role), ca.score)
                .partial_cmp(&(cb.hinted(role), cb.score))
                .unwrap()
        })
}

/// Picks the palette's roles from the observations.
pub fn palette(observations: &[Observation]) -> ColorPalette {
    let clusters = merge(observations);
    let mut taken: Vec<usize> = Vec::new();
    let background = hinted(&clusters, ColourRole::Background, &taken);
    taken.extend(background);
    let text = hinted(&clusters, ColourRole::Text, &taken);
    taken.extend(text);
    let brand = |i: &usize| {
        let c = &clusters[*i];
        !c.colour.is_grey() && !c.is_status()
    };
    let far_from = |i: usize, picked: &[Option<usize>]| {
        picked
            .iter()
            .flatten()
            .all(|p| clusters[*p].colour.distance(clusters[i].colour) >= DISTINCT)
    };
    let pick = |role: ColourRole, min: f32, taken: &[usize], picked: &[Option<usize>]| {
        hinted(&clusters, role, taken)
            .filter(|i| brand(i) && far_from(*i, picked))
            .or_else(|| {
                (0..clusters.len()).find(|i| {
                    !taken.contains(i)
                        && brand(i)
                        && clusters[*i].score >= min
                        && far_from(*i, picked)
                })
            })
    };
    let primary = pick(ColourRole::Primary, MIN_PRIMARY_SCORE, &taken, &[]);
    taken.extend(primary);
    let secondary = primary.and_then(|_| pick(ColourRole::Secondary, 2.0, &taken, &[primary]));
    taken.extend(secondary);
    let accent = primary.and_then(|_| pick(ColourRole::Accent, 2.0, &taken, &[primary, secondary]));
    let role_of = |i: usize| match Some(i) {
        x if x == primary => ColourRole::Primary,
        x if x == secondary => ColourRole::Secondary,
        x if x == accent => ColourRole::Accent,
        x if x == background => ColourRole::Background,
        x if x == text => ColourRole::Text,
        _ => ColourRole::Other,
    };
    let hex = |i: Option<usize>| i.map(|i| clusters[i].colour.hex());
    let entries = clusters
        .iter()
        .enumerate()
        .take(24)
        .map(|(i, c)| PaletteColour {
            hex: c.colour.hex(),
            role: role_of(i),
            score: (c.score * 10.0).round() / 10.0,
            evidence: c.evidence.clone(),
        })
        .collect();
    let colour = |i: Option<usize>| i.map(|i| clusters[i].colour);
    ColorPalette {
        primary: hex(primary),
        secondary: hex(secondary),
        accent: hex(accent),
        background: hex(background),
        text: hex(text),
        palette: entries,
        contrast: contrast_pairs(colour(text), colour(background), colour(primary)),
    }
}

fn contrast_pairs(
    text: Option<Rgb>,
    background: Option<Rgb>,
    primary: Option<Rgb>,
) -> Vec<ContrastPair> {
    let pair = |fg: Rgb, bg: Rgb| {
        let ratio = fg.contrast(bg);
        ContrastPair {
            foreground: fg.hex(),
            background: bg.hex(),
            ratio: (ratio * 100.0).round() as f32 / 100.0,
            passes_aa: ratio >= 4.5,
        }
    };
    let white = Rgb(255, 255, 255);
    let mut out = Vec::new();
    if let (Some(t), Some(b)) = (text, background) {
        out.push(pair(t, b));
    }
    if let Some(p) = primary {
        out.push(pair(white, p));
        if let Some(b) = background.filter(|b| *b != white) {
            out.push(pair(p, b));
        } else {
            out.push(pair(p, white));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(hex: &str, weight: f32, evidence: &str, hint: Option<ColourRole>) -> Observation {
        Observation {
            colour: crate::colour::parse(hex).unwrap(),
            weight,
            evidence: evidence.into(),
            hint,
            status: false,
        }
    }

    #[test]
    fn a_named_brand_property_and_buttons_make_the_primary_and_near_duplicates_merge() {
        let p = palette(&[
            seen(
                "#ffffff",
                6.0,
                "body background",
                Some(ColourRole::Background),
            ),
            seen("#222222", 6.0, "body text", Some(ColourRole::Text)),
            seen(
                "#C0392B",
                10.0,
                "css var --brand",
                Some(ColourRole::Primary),
            ),
            seen("#c1392b", 6.0, "button background", None),
            seen("#2E86AB", 4.0, "link colour", None),
            seen("#F4D35E", 3.0, "header background", None),
            seen("#777777", 9.0, "border", None),
        ]);
        assert_eq!(p.primary.as_deref(), Some("#C0392B"));
        assert_eq!(p.secondary.as_deref(), Some("#2E86AB"));
        assert_eq!(p.accent.as_deref(), Some("#F4D35E"));
        assert_eq!(p.background.as_deref(), Some("#FFFFFF"));
        assert_eq!(p.text.as_deref(), Some("#222222"));
        let brand = p.palette.iter().find(|c| c.hex == "#C0392B").unwrap();
        assert_eq!(brand.score, 16.0);
        assert_eq!(brand.evidence, ["css var --brand", "button background"]);
        assert!(
            p.contrast
                .iter()
                .any(|c| c.foreground == "#222222" && c.passes_aa)
        );
    }

    #[test]
    fn merged_near_twins_take_the_colour_of_their_strongest_sighting() {
        let p = palette(&[
            seen("#FFC107", 1.0, "css var --bs-yellow", None),
            seen(
                "#FFC800",
                10.0,
                "css var --bs-primary",
                Some(ColourRole::Primary),
            ),
        ]);
        assert_eq!(p.primary.as_deref(), Some("#FFC800"));
        assert_eq!(p.palette.len(), 1, "ΔE2000 2.5: one colour");
    }

    #[test]
    fn greys_and_status_colours_are_never_brand_colours() {
        let mut error = seen("#dc3545", 12.0, ".alert-danger background", None);
        error.status = true;
        let p = palette(&[seen("#555555", 20.0, "text", None), error]);
        assert_eq!(p.primary, None);
        assert!(p.palette.iter().all(|c| c.role == ColourRole::Other));
    }

    #[test]
    fn primary_stays_empty_when_the_evidence_is_thin() {
        let p = palette(&[seen("#2E86AB", 1.0, "a border", None)]);
        assert_eq!(p.primary, None);
        assert_eq!(p.palette.len(), 1);
    }
}
