//! How a range of days splits into whole ISO weeks (Monday to Sunday) and the loose days
//! at either end, so a summary can read one weekly row where seven daily rows would do.

use chrono::{Datelike, Days, NaiveDate};

/// A range `[from, to]` as `head` days, whole `weeks` and `tail` days: every day of the
/// range lies in exactly one of them. Empty parts have `start > end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WeekCover {
    /// Days from `from` up to the first whole week (or the whole range if it has none).
    pub head: (NaiveDate, NaiveDate),
    /// The Mondays of the first and the last whole week.
    pub weeks: (NaiveDate, NaiveDate),
    /// Days after the last whole week, up to `to`.
    pub tail: (NaiveDate, NaiveDate),
}

/// The Monday of `day`'s ISO week.
pub fn monday_of(day: NaiveDate) -> NaiveDate {
    day - Days::new(u64::from(day.weekday().num_days_from_monday()))
}

impl WeekCover {
    /// Splits `[from, to]` (inclusive; `from > to` gives three empty parts).
    pub fn of(from: NaiveDate, to: NaiveDate) -> Self {
        let first = monday_of(from + Days::new(6));
        let last = monday_of(to + Days::new(1)) - Days::new(7);
        let day = Days::new(1);
        if from > to || first > last {
            let empty = (to + day, to);
            return Self {
                head: if from > to { empty } else { (from, to) },
                weeks: (to + Days::new(7), to),
                tail: empty,
            };
        }
        Self {
            head: (from, first - day),
            weeks: (first, last),
            tail: (last + Days::new(7), to),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    /// How many parts of the cover hold `day` (a day in a whole week counts once).
    fn holders(c: &WeekCover, day: NaiveDate) -> usize {
        let within = |(a, b): (NaiveDate, NaiveDate)| a <= day && day <= b;
        let in_week = c.weeks.0 <= c.weeks.1 && within((c.weeks.0, c.weeks.1 + Days::new(6)));
        usize::from(within(c.head)) + usize::from(in_week) + usize::from(within(c.tail))
    }

    #[test]
    fn every_day_of_every_range_is_covered_exactly_once_and_nothing_outside_it() {
        let start = d("2026-10-01");
        for a in 0..40u64 {
            for len in 0..45u64 {
                let from = start + Days::new(a);
                let to = from + Days::new(len);
                let c = WeekCover::of(from, to);
                for off in 0..100u64 {
                    let day = start + Days::new(off);
                    let expected = usize::from(from <= day && day <= to);
                    assert_eq!(holders(&c, day), expected, "{from}..{to} at {day}: {c:?}");
                }
                assert!(c.weeks.0 > c.weeks.1 || c.weeks.0.weekday().num_days_from_monday() == 0);
            }
        }
    }

    #[test]
    fn thirty_days_from_a_tuesday_are_six_head_days_three_weeks_and_three_tail_days() {
        let c = WeekCover::of(d("2026-11-03"), d("2026-12-02"));
        assert_eq!(c.head, (d("2026-11-03"), d("2026-11-08")));
        assert_eq!(c.weeks, (d("2026-11-09"), d("2026-11-23")));
        assert_eq!(c.tail, (d("2026-11-30"), d("2026-12-02")));
    }

    #[test]
    fn a_range_shorter_than_a_whole_week_is_all_head() {
        let c = WeekCover::of(d("2026-11-04"), d("2026-11-09"));
        assert_eq!(c.head, (d("2026-11-04"), d("2026-11-09")));
        assert!(c.weeks.0 > c.weeks.1 && c.tail.0 > c.tail.1);
    }

    #[test]
    fn monday_of_a_sunday_is_six_days_before() {
        assert_eq!(monday_of(d("2026-11-29")), d("2026-11-23"));
        assert_eq!(monday_of(d("2026-11-23")), d("2026-11-23"));
    }
}
