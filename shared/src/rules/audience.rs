//! Widening a campaign's audience within the bounds its owner set (AUDIENCE_EXPANSION):
//! Advantage+ audience on, the age range opened towards the bounds, both genders. A step
//! only ever widens; an audience already at its bounds is left alone.

use crate::domain::campaign::TargetAudience;
use crate::domain::rule::AudienceSpec;

/// Meta's age range when a targeting spec names none.
const META_AGE_MIN: u8 = 18;
const META_AGE_MAX: u8 = 65;

/// The widened audience and what was widened, or None when nothing can widen.
pub fn widen(
    current: Option<&TargetAudience>,
    bounds: &AudienceSpec,
) -> Option<(TargetAudience, Vec<String>)> {
    let mut to = current.cloned().unwrap_or_default();
    let mut widened = Vec::new();
    if bounds.advantage_audience && to.advantage_audience != Some(true) {
        to.advantage_audience = Some(true);
        widened.push("advantage_audience".to_owned());
    }
    if let Some(floor) = bounds.age_min
        && to.age_min.unwrap_or(META_AGE_MIN) > floor
    {
        to.age_min = Some(floor);
        widened.push("age_min".to_owned());
    }
    if let Some(ceiling) = bounds.age_max
        && to.age_max.unwrap_or(META_AGE_MAX) < ceiling
    {
        to.age_max = Some(ceiling);
        widened.push("age_max".to_owned());
    }
    if bounds.all_genders && !to.genders.is_empty() {
        to.genders.clear();
        widened.push("genders".to_owned());
    }
    (!widened.is_empty()).then_some((to, widened))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn audience(age_min: u8, age_max: u8, genders: Vec<u8>) -> TargetAudience {
        TargetAudience {
            age_min: Some(age_min),
            age_max: Some(age_max),
            genders,
            ..Default::default()
        }
    }

    #[test]
    fn an_audience_widens_to_the_owners_bounds_and_no_further() {
        let bounds = AudienceSpec {
            advantage_audience: true,
            age_min: Some(21),
            age_max: Some(55),
            all_genders: true,
        };
        let (to, widened) = widen(Some(&audience(25, 34, vec![2])), &bounds).unwrap();
        assert_eq!(to.age_min, Some(21));
        assert_eq!(to.age_max, Some(55));
        assert!(to.genders.is_empty());
        assert_eq!(to.advantage_audience, Some(true));
        assert_eq!(
            widened,
            ["advantage_audience", "age_min", "age_max", "genders"]
        );
        assert_eq!(widen(Some(&to), &bounds), None, "already at its bounds");
    }

    #[test]
    fn a_step_never_narrows_an_audience_wider_than_the_bounds() {
        let bounds = AudienceSpec {
            age_min: Some(25),
            age_max: Some(45),
            ..Default::default()
        };
        assert_eq!(widen(Some(&audience(18, 65, vec![])), &bounds), None);
        let (to, widened) = widen(Some(&audience(30, 60, vec![])), &bounds).unwrap();
        assert_eq!((to.age_min, to.age_max), (Some(25), Some(60)));
        assert_eq!(widened, ["age_min"]);
        assert_eq!(
            widen(None, &bounds),
            None,
            "no targeting is Meta's 18-65 already"
        );
    }

    #[test]
    fn advantage_audience_is_sent_as_metas_targeting_automation() {
        let mut a = audience(25, 34, vec![]);
        a.advantage_audience = Some(true);
        let meta = a.to_meta();
        assert_eq!(meta["targeting_automation"]["advantage_audience"], 1);
        assert!(meta.get("advantage_audience").is_none());
        assert_eq!(meta["geo_locations"]["countries"][0], "IN");
    }
}
