//! The report's figures: denials bucketed over the window, and their inline SVG drawings.
//!
//! The counting ([`stacked`], [`top_actions`]) is kept apart from the drawing so that tests can
//! check the numbers a chart shows without reading SVG. The drawings carry their numbers in
//! `data-*` attributes too, for the same reason.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, Datelike, Timelike, Utc};

use crate::{DenialRow, Window};

const MINUTE_MS: i64 = 60 * 1000;
const HOUR_MS: i64 = 60 * MINUTE_MS;
const DAY_MS: i64 = 24 * HOUR_MS;

/// How long one bar of a chart over time lasts. Widths of a day or less are aligned to midnight
/// UTC, weeks to Monday, months to January: a bar starts where a reader expects one to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    /// A width in milliseconds: a divisor of a day, or whole days.
    Fixed(i64),
    /// Calendar weeks, Monday to Sunday.
    Week,
    /// This many calendar months: 1, 3 (quarters), 12 (years) or whole years.
    Months(u32),
}

/// Bucket widths a reader recognises at a glance, smallest first.
const BUCKETS: [Bucket; 19] = [
    Bucket::Fixed(5 * MINUTE_MS),
    Bucket::Fixed(15 * MINUTE_MS),
    Bucket::Fixed(30 * MINUTE_MS),
    Bucket::Fixed(HOUR_MS),
    Bucket::Fixed(2 * HOUR_MS),
    Bucket::Fixed(3 * HOUR_MS),
    Bucket::Fixed(6 * HOUR_MS),
    Bucket::Fixed(12 * HOUR_MS),
    Bucket::Fixed(DAY_MS),
    Bucket::Fixed(2 * DAY_MS),
    Bucket::Week,
    Bucket::Months(1),
    Bucket::Months(3),
    Bucket::Months(12),
    Bucket::Months(24),
    Bucket::Months(60),
    Bucket::Months(120),
    Bucket::Months(240),
    Bucket::Months(1200),
];

/// More bars than this get too thin to hover or to read.
const MAX_BUCKETS: usize = 48;

/// Monday 1970-01-05, from which weeks are counted.
const FIRST_MONDAY_MS: i64 = 4 * DAY_MS;

impl Bucket {
    /// The start of the bucket holding `ms`.
    pub fn align(self, ms: i64) -> i64 {
        match self {
            Bucket::Fixed(width) => ms.div_euclid(width) * width,
            Bucket::Week => {
                (ms - FIRST_MONDAY_MS).div_euclid(7 * DAY_MS) * 7 * DAY_MS + FIRST_MONDAY_MS
            }
            Bucket::Months(n) => {
                let month = month_index(ms);
                month_start(month - month.rem_euclid(i64::from(n)))
            }
        }
    }

    /// The start of the bucket after the one starting at `start`.
    pub fn next(self, start: i64) -> i64 {
        match self {
            Bucket::Fixed(width) => start.saturating_add(width),
            Bucket::Week => start.saturating_add(7 * DAY_MS),
            Bucket::Months(n) => month_start(month_index(start) + i64::from(n)),
        }
    }

    /// What one bar counts, for captions and axis titles: `per hour`, `per 30 minutes`.
    pub fn per(self) -> String {
        let per = |n: i64, one: &str, many: &str| {
            if n == 1 {
                format!("per {one}")
            } else {
                format!("per {n} {many}")
            }
        };
        match self {
            Bucket::Fixed(width) if width % DAY_MS == 0 => per(width / DAY_MS, "day", "days"),
            Bucket::Fixed(width) if width % HOUR_MS == 0 => per(width / HOUR_MS, "hour", "hours"),
            Bucket::Fixed(width) => per(width / MINUTE_MS, "minute", "minutes"),
            Bucket::Week => "per week".to_string(),
            Bucket::Months(3) => "per quarter".to_string(),
            Bucket::Months(n) if n % 12 == 0 => per(i64::from(n / 12), "year", "years"),
            Bucket::Months(n) => per(i64::from(n), "month", "months"),
        }
    }

    /// The starts of the buckets covering `[from_ms, to_ms)`, or `None` past `limit` of them.
    fn starts(self, from_ms: i64, to_ms: i64, limit: usize) -> Option<Vec<i64>> {
        if to_ms <= from_ms {
            return Some(Vec::new());
        }
        let first = self.align(from_ms);
        if let Bucket::Fixed(width) = self {
            // Counted, not walked: a 16-year window has millions of 5-minute buckets.
            let span = to_ms - first;
            let count = span.div_euclid(width) + i64::from(span.rem_euclid(width) != 0);
            if usize::try_from(count).map_or(true, |c| c > limit) {
                return None;
            }
        }
        let mut starts = Vec::new();
        let mut start = first;
        while start < to_ms {
            if starts.len() == limit {
                return None;
            }
            starts.push(start);
            start = self.next(start);
        }
        Some(starts)
    }
}

/// Months since year 0, January: 0.
fn month_index(ms: i64) -> i64 {
    match DateTime::<Utc>::from_timestamp_millis(ms) {
        Some(time) => i64::from(time.year()) * 12 + i64::from(time.month0()),
        None => 0,
    }
}

fn month_start(index: i64) -> i64 {
    let year = i32::try_from(index.div_euclid(12)).unwrap_or(i32::MAX);
    let month = u32::try_from(index.rem_euclid(12)).unwrap_or(0) + 1;
    chrono::NaiveDate::from_ymd_opt(year, month, 1)
        .and_then(|day| day.and_hms_opt(0, 0, 0))
        .map_or(i64::MAX, |time| time.and_utc().timestamp_millis())
}

/// Okabe-Ito, which stays distinguishable for the common forms of colour blindness.
const PALETTE: [&str; 8] = [
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000",
];
/// Series set apart (AWS service principals) are greys, so they never read as one more person or
/// role.
const APART_PALETTE: [&str; 4] = ["#5F5F5F", "#8C8C8C", "#B4B4B4", "#D2D2D2"];

/// Display labels longer than this are shortened; the full text stays in `<title>`.
const LABEL_MAX_CHARS: usize = 60;

const EMPTY_TEXT: &str = "No denials in this window";

const SVG_WIDTH: f64 = 760.0;
const FONT_FAMILY: &str =
    "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif";
const TEXT_COLOUR: &str = "#333333";
const GRID_COLOUR: &str = "#DDDDDD";
/// A generous width of one character of the 12px labels, so that estimated widths never
/// undershoot what a browser draws.
const CHAR_WIDTH: f64 = 7.2;

/// Counts per time bucket, one series per key, ready to stack.
#[derive(Debug, Clone, PartialEq)]
pub struct StackedSeries {
    pub bucket: Bucket,
    /// Start of each bucket, milliseconds since the epoch.
    pub starts: Vec<i64>,
    /// Largest first; the series set apart, if any, after the others, largest first too.
    pub series: Vec<Series>,
    /// The keys not drawn, and their rows: a chart of the top keys says what it leaves out
    /// rather than stacking it into a band that dwarfs them.
    pub not_drawn: NotDrawn,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NotDrawn {
    pub keys: usize,
    pub rows: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub label: String,
    /// One count per bucket, in the order of [`StackedSeries::starts`].
    pub counts: Vec<u64>,
    pub total: u64,
    /// In the group set apart (AWS service principals in the chart by principal).
    pub apart: bool,
}

/// Which series to draw: the `top` keys with the most rows, and the `top_apart` most frequent of
/// the keys `apart` sets aside in a group of their own.
#[derive(Clone, Copy)]
pub struct Selection<'a> {
    pub top: usize,
    pub top_apart: usize,
    pub apart: &'a dyn Fn(&str) -> bool,
}

impl Selection<'_> {
    /// The `top` keys, none set apart.
    pub fn top(top: usize) -> Selection<'static> {
        Selection {
            top,
            top_apart: 0,
            apart: &|_| false,
        }
    }
}

/// The smallest readable bucket that splits `[from_ms, to_ms)` into at most 48 buckets, counting
/// the partial first bucket that alignment adds.
pub fn bucket_for(from_ms: i64, to_ms: i64) -> Bucket {
    BUCKETS
        .iter()
        .copied()
        .find(|bucket| bucket.starts(from_ms, to_ms, MAX_BUCKETS).is_some())
        .unwrap_or(BUCKETS[BUCKETS.len() - 1])
}

/// Buckets the window's rows by time and by `key`, keeping the series `selection` asks for; the
/// rest are counted in [`StackedSeries::not_drawn`].
pub fn stacked(
    rows: &[DenialRow],
    key: impl Fn(&DenialRow) -> String,
    window: &Window,
    selection: Selection<'_>,
) -> StackedSeries {
    let bucket = bucket_for(window.from_ms, window.to_ms);
    let starts = bucket
        .starts(window.from_ms, window.to_ms, usize::MAX)
        .unwrap_or_default();

    let mut by_key: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for row in rows {
        let Some(time) = row.time_ms else { continue };
        if time < window.from_ms || time >= window.to_ms || starts.is_empty() {
            continue;
        }
        let index = starts.partition_point(|&start| start <= time).max(1) - 1;
        let counts = by_key
            .entry(key(row))
            .or_insert_with(|| vec![0; starts.len()]);
        counts[index] += 1;
    }

    let mut ranked: Vec<Series> = by_key
        .into_iter()
        .map(|(label, counts)| Series {
            total: counts.iter().sum(),
            apart: (selection.apart)(&label),
            label,
            counts,
        })
        .collect();
    ranked.sort_by(|a, b| b.total.cmp(&a.total).then_with(|| a.label.cmp(&b.label)));
    let (mut main, mut apart): (Vec<Series>, Vec<Series>) =
        ranked.into_iter().partition(|s| !s.apart);
    let mut rest = main.split_off(selection.top.min(main.len()));
    rest.extend(apart.split_off(selection.top_apart.min(apart.len())));
    main.extend(apart);
    StackedSeries {
        bucket,
        starts,
        series: main,
        not_drawn: NotDrawn {
            keys: rest.len(),
            rows: rest.iter().map(|s| s.total).sum(),
        },
    }
}

/// Denials per action (`s3:GetObject`), most first, ties by name, at most `n`.
pub fn top_actions(rows: &[DenialRow], n: usize) -> Vec<(String, u64)> {
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for row in rows {
        *counts.entry(row.qualified_action()).or_default() += 1;
    }
    let mut ranked: Vec<(String, u64)> = counts.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    ranked.truncate(n);
    ranked
}

/// Escapes text for XML and HTML content and for quoted attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// Shortens a label for display to at most [`LABEL_MAX_CHARS`] characters. An ARN keeps what
/// tells principals apart: the role or user name whole, then as much of the session as fits;
/// the `arn:aws:sts::` prefix goes first, then most of the account. Any other text loses its
/// middle.
pub(crate) fn shorten(label: &str) -> String {
    shorten_to(label, LABEL_MAX_CHARS)
}

fn shorten_to(label: &str, max: usize) -> String {
    let length = label.chars().count();
    if length <= max {
        return label.to_string();
    }
    if let Some(short) = shorten_arn(label, max) {
        return short;
    }
    cut_middle(label, max)
}

fn cut_middle(label: &str, max: usize) -> String {
    let chars: Vec<char> = label.chars().collect();
    if chars.len() <= max {
        return label.to_string();
    }
    let head = (max - 1) / 2;
    let tail = max - 1 - head;
    let mut short: String = chars[..head].iter().collect();
    short.push('…');
    short.extend(&chars[chars.len() - tail..]);
    short
}

/// Cuts the end of `text` to `max` characters, marking the cut.
fn cut_end(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut short: String = text.chars().take(max.saturating_sub(1)).collect();
    short.push('…');
    short
}

fn shorten_arn(label: &str, max: usize) -> Option<String> {
    let ctq_denial::Arn {
        account, resource, ..
    } = ctq_denial::Arn::parse(label)?;
    let fits = |text: &str| text.chars().count() <= max;
    let without_prefix = format!("{account}:{resource}");
    if fits(&without_prefix) {
        return Some(without_prefix);
    }
    let account = if account.chars().count() > 4 {
        let digits: Vec<char> = account.chars().collect();
        format!("…{}", digits[digits.len() - 4..].iter().collect::<String>())
    } else {
        account.to_string()
    };
    let short_account = format!("{account}:{resource}");
    if fits(&short_account) {
        return Some(short_account);
    }
    // assumed-role/NAME/SESSION, role/PATH/NAME, user/PATH/NAME: the name is the second segment
    // of a session, else the last.
    let segments: Vec<&str> = resource.split('/').collect();
    let (kind, name, rest) = match segments.as_slice() {
        [kind, name, rest @ ..] if *kind == "assumed-role" => (*kind, *name, rest.join("/")),
        [kind, .., name] => (*kind, *name, String::new()),
        _ => return Some(cut_middle(label, max)),
    };
    let path = if rest.is_empty() && segments.len() > 2 {
        "…/"
    } else {
        ""
    };
    // Less and less context around the name, until the name and some of the session fit.
    let heads = [
        format!("{account}:{kind}/{path}{name}"),
        format!("{kind}/{path}{name}"),
        name.to_string(),
    ];
    for head in &heads {
        let room = max.saturating_sub(head.chars().count() + 1);
        if rest.is_empty() && fits(head) {
            return Some(head.clone());
        }
        if !rest.is_empty() && room >= 4 {
            return Some(format!("{head}/{}", cut_end(&rest, room)));
        }
    }
    Some(cut_middle(name, max))
}

fn iso_time(ms: i64) -> String {
    match DateTime::<Utc>::from_timestamp_millis(ms) {
        Some(time) => time.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        None => ms.to_string(),
    }
}

fn hover_time(ms: i64) -> String {
    match DateTime::<Utc>::from_timestamp_millis(ms) {
        Some(time) => time.format("%Y-%m-%d %H:%M").to_string(),
        None => ms.to_string(),
    }
}

/// A count and its noun, singular for one: `1 denial`, `3 denials`.
pub fn plural(count: u64, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

/// A round step (1, 2 or 5 times a power of ten) giving at most about five gridlines up to `max`.
fn tick_step(max: u64) -> u64 {
    let mut magnitude = 1u64;
    loop {
        for factor in [1, 2, 5] {
            let step = factor * magnitude;
            if max.div_ceil(step) <= 5 {
                return step;
            }
        }
        magnitude = magnitude.saturating_mul(10);
    }
}

fn svg_open(out: &mut String, id: &str, title: &str, height: f64) {
    let _ = write!(
        out,
        r#"<svg id="{id}" class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {SVG_WIDTH} {height}" role="img" aria-label="{title}" font-family="{FONT_FAMILY}" font-size="12" fill="{TEXT_COLOUR}">"#,
        id = escape(id),
        title = escape(title),
        height = number(height),
        FONT_FAMILY = escape(FONT_FAMILY),
    );
    let _ = write!(out, "<title>{}</title>", escape(title));
}

fn empty_svg(id: &str, title: &str) -> String {
    let height = 120.0;
    let mut out = String::new();
    svg_open(&mut out, id, title, height);
    let _ = write!(
        out,
        r#"<text class="empty" x="{x}" y="{y}" text-anchor="middle" dominant-baseline="middle" font-size="14">{EMPTY_TEXT}</text></svg>"#,
        x = number(SVG_WIDTH / 2.0),
        y = number(height / 2.0),
    );
    out
}

/// Coordinates with one decimal at most, so the markup stays short and stable across platforms.
fn number(value: f64) -> String {
    let rounded = (value * 10.0).round() / 10.0;
    if rounded.fract() == 0.0 {
        format!("{rounded:.0}")
    } else {
        format!("{rounded:.1}")
    }
}

/// The colour of the `index`th series of its group.
fn colour(index: usize, apart: bool) -> &'static str {
    if apart {
        APART_PALETTE[index % APART_PALETTE.len()]
    } else {
        PALETTE[index % PALETTE.len()]
    }
}

/// Denials over time as stacked bars, one colour per series, with an axis title saying what a bar
/// counts and a legend of totals (the series set apart under `apart_title`).
pub fn stacked_bars_svg(id: &str, title: &str, data: &StackedSeries, apart_title: &str) -> String {
    let buckets = data.starts.len();
    if buckets == 0 || data.series.iter().all(|s| s.total == 0) {
        return empty_svg(id, title);
    }
    // Room on the left for the y axis's title and five-digit ticks, on the right for half a
    // label centred on the last bucket.
    let (left, right, top, plot_height, axis_height) = (66.0, 30.0, 12.0, 240.0, 36.0);
    let legend_line = 20.0;
    let plot_width = SVG_WIDTH - left - right;
    let baseline = top + plot_height;
    let legend_top = baseline + axis_height;
    let has_apart = data.series.iter().any(|s| s.apart);
    let legend_lines = data.series.len() + usize::from(has_apart);
    let height = legend_top + legend_line * legend_lines as f64 + 8.0;

    let bucket_totals: Vec<u64> = (0..buckets)
        .map(|i| {
            data.series
                .iter()
                .map(|s| s.counts.get(i).copied().unwrap_or(0))
                .sum()
        })
        .collect();
    let peak = bucket_totals.iter().copied().max().unwrap_or(0).max(1);
    let step = tick_step(peak);
    let y_max = peak.div_ceil(step) * step;
    let y_of = |count: u64| baseline - plot_height * count as f64 / y_max as f64;
    // Each series' colour by its rank within its group.
    let colours: Vec<&str> = {
        let (mut main, mut apart) = (0, 0);
        data.series
            .iter()
            .map(|s| {
                let rank = if s.apart { &mut apart } else { &mut main };
                *rank += 1;
                colour(*rank - 1, s.apart)
            })
            .collect()
    };

    let mut out = String::new();
    svg_open(&mut out, id, title, height);

    out.push_str(r#"<g class="y-axis" text-anchor="end">"#);
    for tick in (0..=y_max).step_by(usize::try_from(step).unwrap_or(usize::MAX)) {
        let y = number(y_of(tick));
        let _ = write!(
            out,
            r#"<line x1="{left}" x2="{x2}" y1="{y}" y2="{y}" stroke="{GRID_COLOUR}" stroke-width="1"/><text x="{tx}" y="{y}" dy="0.32em">{tick}</text>"#,
            left = number(left),
            x2 = number(left + plot_width),
            tx = number(left - 6.0),
        );
    }
    out.push_str("</g>");
    let middle = top + plot_height / 2.0;
    let _ = write!(
        out,
        r#"<text class="y-title" x="14" y="{y}" text-anchor="middle" dominant-baseline="middle" transform="rotate(-90 14 {y})">denials {per}</text>"#,
        y = number(middle),
        per = escape(&data.bucket.per()),
    );

    let slot = plot_width / buckets as f64;
    // Thin bars need every pixel; wide ones read better with a gap between them.
    let gap = if slot >= 6.0 { slot * 0.15 } else { 0.0 };
    out.push_str(r#"<g class="bars">"#);
    for (bucket, &start) in data.starts.iter().enumerate() {
        let x = left + slot * bucket as f64 + gap / 2.0;
        let mut below = 0u64;
        for (index, series) in data.series.iter().enumerate() {
            let count = series.counts.get(bucket).copied().unwrap_or(0);
            if count == 0 {
                continue;
            }
            let (y_top, y_bottom) = (y_of(below + count), y_of(below));
            below += count;
            let _ = write!(
                out,
                r#"<rect class="bar" data-series="{label}" data-start="{start_iso}" data-count="{count}" x="{x}" y="{y}" width="{w}" height="{h}" fill="{fill}"><title>{label}: {denials} from {from} to {to} UTC</title></rect>"#,
                label = escape(&series.label),
                start_iso = iso_time(start),
                x = number(x),
                y = number(y_top),
                w = number(slot - gap),
                h = number(y_bottom - y_top),
                fill = colours[index],
                denials = plural(count, "denial", "denials"),
                from = hover_time(start),
                to = hover_time(data.bucket.next(start)),
            );
        }
    }
    out.push_str("</g>");

    let _ = write!(
        out,
        r#"<line class="x-axis" x1="{left}" x2="{x2}" y1="{baseline}" y2="{baseline}" stroke="{TEXT_COLOUR}" stroke-width="1"/>"#,
        left = number(left),
        x2 = number(left + plot_width),
        baseline = number(baseline),
    );
    out.push_str(r#"<g class="x-labels" text-anchor="middle">"#);
    for (bucket, text) in x_labels(&data.starts, data.bucket, plot_width) {
        let x = left + slot * bucket as f64 + slot / 2.0;
        // A label centred on the first or last bucket stays inside the drawing.
        let half = text.chars().count() as f64 * CHAR_WIDTH / 2.0;
        let text_x = x.clamp(half + 2.0, SVG_WIDTH - half - 2.0);
        let _ = write!(
            out,
            r#"<line x1="{x}" x2="{x}" y1="{baseline}" y2="{tick_end}" stroke="{TEXT_COLOUR}" stroke-width="1"/><text class="x-label" x="{text_x}" y="{y}">{text}</text>"#,
            x = number(x),
            text_x = number(text_x),
            baseline = number(baseline),
            tick_end = number(baseline + 4.0),
            y = number(baseline + 18.0),
            text = escape(&text),
        );
    }
    out.push_str("</g>");

    out.push_str(r#"<g class="legend">"#);
    let mut line = 0;
    for (index, series) in data.series.iter().enumerate() {
        if series.apart && (index == 0 || !data.series[index - 1].apart) {
            let _ = write!(
                out,
                r#"<text class="legend-heading" x="{left}" y="{y}" font-weight="600">{apart_title}</text>"#,
                left = number(left),
                y = number(legend_top + legend_line * f64::from(line) + 10.5),
                apart_title = escape(apart_title),
            );
            line += 1;
        }
        let y = legend_top + legend_line * f64::from(line);
        line += 1;
        let _ = write!(
            out,
            r#"<g class="legend-item" data-series="{label}" data-total="{total}"{apart}><title>{label}: {denials}</title><rect x="{left}" y="{y}" width="12" height="12" fill="{fill}"/><text x="{tx}" y="{ty}">{short} ({total})</text></g>"#,
            label = escape(&series.label),
            total = series.total,
            apart = if series.apart {
                r#" data-apart="true""#
            } else {
                ""
            },
            denials = plural(series.total, "denial", "denials"),
            left = number(left),
            y = number(y),
            fill = colours[index],
            tx = number(left + 18.0),
            ty = number(y + 10.5),
            short = escape(&shorten(&series.label)),
        );
    }
    out.push_str("</g></svg>");
    out
}

/// How the x labels of a bucket width read, and which runs of buckets they may skip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scale {
    /// Times of day; the date where it changes.
    Hours,
    /// Dates; the year where it changes.
    Days,
    Months,
    Quarters,
    Years,
}

impl Scale {
    fn of(bucket: Bucket) -> Scale {
        match bucket {
            Bucket::Fixed(width) if width < DAY_MS => Scale::Hours,
            Bucket::Fixed(_) | Bucket::Week => Scale::Days,
            Bucket::Months(3) => Scale::Quarters,
            Bucket::Months(n) if n % 12 == 0 => Scale::Years,
            Bucket::Months(_) => Scale::Months,
        }
    }

    /// The widest label, in characters.
    fn widest(self) -> usize {
        match self {
            Scale::Hours => "10-29 06:00".len(),
            Scale::Days => "2019-10-29".len(),
            Scale::Months => "2019-10".len(),
            Scale::Quarters => "2019 Q4".len(),
            Scale::Years => "2019".len(),
        }
    }

    /// Label every this many buckets: runs that land on round times.
    fn steps(self) -> &'static [usize] {
        match self {
            Scale::Hours => &[1, 2, 3, 4, 6, 8, 12, 16, 24, 48],
            Scale::Days => &[1, 2, 3, 4, 5, 7, 10, 14, 21, 28, 48],
            Scale::Months => &[1, 2, 3, 4, 6, 12, 24, 48],
            Scale::Quarters => &[1, 2, 4, 8, 12, 16, 20, 40],
            Scale::Years => &[1, 2, 5, 10, 20, 25, 50],
        }
    }
}

/// The x labels: (bucket index, text). As many as fit without touching, at least one, on round
/// times (00:00, 04:00; January; 2010, 2015) rather than wherever the window began.
fn x_labels(starts: &[i64], bucket: Bucket, plot_width: f64) -> Vec<(usize, String)> {
    if starts.is_empty() {
        return Vec::new();
    }
    let scale = Scale::of(bucket);
    let gap = 16.0;
    let label_width = scale.widest() as f64 * CHAR_WIDTH + gap;
    let slot = plot_width / starts.len() as f64;
    let every = scale
        .steps()
        .iter()
        .copied()
        .find(|&every| slot * every as f64 >= label_width)
        .unwrap_or_else(|| (label_width / slot).ceil() as usize)
        .max(1);
    let round = |start: i64| -> bool {
        match (scale, bucket) {
            (Scale::Hours, Bucket::Fixed(width)) => {
                start.rem_euclid(width.saturating_mul(every as i64)) == 0
            }
            (Scale::Months | Scale::Quarters, _) => {
                month_index(start).rem_euclid(bucket_months(bucket) * every as i64) == 0
            }
            (Scale::Years, _) => {
                (month_index(start) / 12).rem_euclid(bucket_months(bucket) / 12 * every as i64) == 0
            }
            // Dates have no round value to snap to: the window's first day leads.
            _ => false,
        }
    };
    let first = starts
        .iter()
        .take(every)
        .position(|&start| round(start))
        .unwrap_or(0);
    let mut labels = Vec::new();
    let mut previous: Option<DateTime<Utc>> = None;
    for (index, &start) in starts.iter().enumerate().skip(first).step_by(every) {
        let Some(time) = DateTime::<Utc>::from_timestamp_millis(start) else {
            continue;
        };
        let text = match scale {
            Scale::Hours if previous.is_some_and(|p| p.date_naive() == time.date_naive()) => {
                time.format("%H:%M").to_string()
            }
            Scale::Hours => time.format("%m-%d %H:%M").to_string(),
            Scale::Days if previous.is_some_and(|p| p.year() == time.year()) => {
                time.format("%m-%d").to_string()
            }
            Scale::Days => time.format("%Y-%m-%d").to_string(),
            Scale::Months => time.format("%Y-%m").to_string(),
            Scale::Quarters => format!("{} Q{}", time.year(), time.month0() / 3 + 1),
            Scale::Years => time.format("%Y").to_string(),
        };
        debug_assert!(time.hour() == 0 || scale == Scale::Hours);
        previous = Some(time);
        labels.push((index, text));
    }
    labels
}

fn bucket_months(bucket: Bucket) -> i64 {
    match bucket {
        Bucket::Months(n) => i64::from(n),
        _ => 1,
    }
}

/// One horizontal bar per item, longest first as given, with its count at the end.
pub fn horizontal_bars_svg(id: &str, title: &str, items: &[(String, u64)]) -> String {
    if items.is_empty() || items.iter().all(|(_, count)| *count == 0) {
        return empty_svg(id, title);
    }
    let row_height = 24.0;
    let bar_height = 16.0;
    let top = 8.0;
    // Roughly the width of 12px sans-serif text, so short labels leave room for the bars.
    let longest = items
        .iter()
        .map(|(label, _)| shorten(label).chars().count())
        .max()
        .unwrap_or(0);
    let label_width = (longest as f64 * 6.8).clamp(60.0, 410.0);
    let bar_left = label_width + 12.0;
    let count_room = 56.0;
    let bar_room = SVG_WIDTH - bar_left - count_room;
    let peak = items
        .iter()
        .map(|(_, count)| *count)
        .max()
        .unwrap_or(1)
        .max(1);
    let height = top * 2.0 + row_height * items.len() as f64;

    let mut out = String::new();
    svg_open(&mut out, id, title, height);
    out.push_str(r#"<g class="bars">"#);
    for (index, (label, count)) in items.iter().enumerate() {
        let y = top + row_height * index as f64;
        let middle = y + row_height / 2.0;
        let width = (bar_room * *count as f64 / peak as f64).max(1.0);
        let _ = write!(
            out,
            r#"<text class="label" x="{lx}" y="{middle}" dy="0.32em" text-anchor="end">{short}<title>{full}</title></text><rect class="bar" data-label="{full}" data-count="{count}" x="{bx}" y="{by}" width="{w}" height="{bar_height}" fill="{fill}"><title>{full}: {denials}</title></rect><text class="count" x="{cx}" y="{middle}" dy="0.32em">{count}</text>"#,
            lx = number(label_width + 4.0),
            middle = number(middle),
            short = escape(&shorten(label)),
            full = escape(label),
            bx = number(bar_left),
            by = number(middle - bar_height / 2.0),
            w = number(width),
            fill = PALETTE[0],
            denials = plural(*count, "denial", "denials"),
            cx = number(bar_left + width + 6.0),
        );
    }
    out.push_str("</g></svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(from: &str, to: &str) -> Window {
        let ms = |s: &str| {
            DateTime::parse_from_rfc3339(s)
                .expect("test time is RFC 3339")
                .timestamp_millis()
        };
        Window {
            from: from.to_string(),
            to: to.to_string(),
            from_ms: ms(from),
            to_ms: ms(to),
        }
    }

    fn row(time: Option<&str>, principal: &str, service: &str, action: &str) -> DenialRow {
        DenialRow {
            time_ms: time.map(|t| {
                DateTime::parse_from_rfc3339(t)
                    .expect("test time is RFC 3339")
                    .timestamp_millis()
            }),
            principal: principal.to_string(),
            service: service.to_string(),
            action: action.to_string(),
            error_code: "AccessDenied".to_string(),
            explicit: false,
        }
    }

    /// Counts of `<rect class="bar"` elements and the sum of their `data-count`.
    fn bars(svg: &str) -> (usize, u64) {
        let mut rects = 0;
        let mut sum = 0;
        for piece in svg.split(r#"<rect class="bar""#).skip(1) {
            rects += 1;
            let count = piece
                .split(r#"data-count=""#)
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .expect("every bar has a data-count");
            sum += count.parse::<u64>().expect("data-count is a number");
        }
        (rects, sum)
    }

    #[test]
    fn the_bucket_is_the_smallest_giving_at_most_48_buckets() {
        let fixed = |from: i64, to: i64| match bucket_for(from, to) {
            Bucket::Fixed(width) => width,
            other => panic!("{other:?}"),
        };
        assert_eq!(fixed(0, 4 * HOUR_MS), 5 * MINUTE_MS);
        // Misaligned by a minute, 5-minute buckets would need 49.
        assert_eq!(fixed(MINUTE_MS, 4 * HOUR_MS + MINUTE_MS), 15 * MINUTE_MS);
        assert_eq!(fixed(0, 4 * HOUR_MS + 1), 15 * MINUTE_MS);
        assert_eq!(fixed(0, DAY_MS), 30 * MINUTE_MS);
        assert_eq!(fixed(0, 2 * DAY_MS), HOUR_MS);
        assert_eq!(fixed(0, 7 * DAY_MS), 6 * HOUR_MS);
        assert_eq!(fixed(0, 30 * DAY_MS), DAY_MS);
        assert_eq!(fixed(0, 0), 5 * MINUTE_MS);
        assert_eq!(bucket_for(0, 90 * DAY_MS), Bucket::Fixed(2 * DAY_MS));
        assert_eq!(bucket_for(0, 120 * DAY_MS), Bucket::Week);
        assert_eq!(bucket_for(0, 365 * DAY_MS), Bucket::Months(1));
        assert_eq!(bucket_for(0, 5 * 365 * DAY_MS), Bucket::Months(3));
        let w = window("2009-01-01T00:00:00Z", "2026-01-01T00:00:00Z");
        assert_eq!(bucket_for(w.from_ms, w.to_ms), Bucket::Months(12));
        assert_eq!(bucket_for(0, 100 * 365 * DAY_MS), Bucket::Months(60));
    }

    #[test]
    fn buckets_say_what_they_count_and_start_on_calendar_bounds() {
        assert_eq!(Bucket::Fixed(HOUR_MS).per(), "per hour");
        assert_eq!(Bucket::Fixed(30 * MINUTE_MS).per(), "per 30 minutes");
        assert_eq!(Bucket::Fixed(DAY_MS).per(), "per day");
        assert_eq!(Bucket::Fixed(2 * DAY_MS).per(), "per 2 days");
        assert_eq!(Bucket::Week.per(), "per week");
        assert_eq!(Bucket::Months(1).per(), "per month");
        assert_eq!(Bucket::Months(3).per(), "per quarter");
        assert_eq!(Bucket::Months(12).per(), "per year");
        assert_eq!(Bucket::Months(60).per(), "per 5 years");
        let at = |s: &str| window(s, s).from_ms;
        // 2019-10-30 is a Wednesday: its week began on Monday the 28th.
        assert_eq!(
            iso_time(Bucket::Week.align(at("2019-10-30T13:00:00Z"))),
            "2019-10-28T00:00:00Z"
        );
        assert_eq!(
            iso_time(Bucket::Months(3).align(at("2019-11-30T13:00:00Z"))),
            "2019-10-01T00:00:00Z"
        );
        assert_eq!(
            iso_time(Bucket::Months(1).next(at("2019-12-01T00:00:00Z"))),
            "2020-01-01T00:00:00Z"
        );
        let w = window("2009-03-05T00:00:00Z", "2026-01-01T00:00:00Z");
        let starts = Bucket::Months(12).starts(w.from_ms, w.to_ms, 48).unwrap();
        assert_eq!(starts.len(), 17);
        assert_eq!(iso_time(starts[0]), "2009-01-01T00:00:00Z");
        assert_eq!(iso_time(starts[16]), "2025-01-01T00:00:00Z");
    }

    #[test]
    fn stacked_counts_every_row_in_the_window_once() {
        let window = window("2019-10-29T00:00:00Z", "2019-10-30T00:00:00Z");
        let rows = vec![
            row(
                Some("2019-10-29T00:00:00Z"),
                "alice",
                "s3.amazonaws.com",
                "GetObject",
            ),
            row(
                Some("2019-10-29T00:29:59Z"),
                "alice",
                "s3.amazonaws.com",
                "GetObject",
            ),
            row(
                Some("2019-10-29T00:30:00Z"),
                "bob",
                "s3.amazonaws.com",
                "PutObject",
            ),
            row(
                Some("2019-10-29T23:59:59Z"),
                "carol",
                "iam.amazonaws.com",
                "GetRole",
            ),
            row(
                Some("2019-10-29T12:00:00Z"),
                "dave",
                "iam.amazonaws.com",
                "GetRole",
            ),
            // Outside the window, or without a time: not drawn.
            row(
                Some("2019-10-30T00:00:00Z"),
                "alice",
                "s3.amazonaws.com",
                "GetObject",
            ),
            row(
                Some("2019-10-28T23:59:59Z"),
                "alice",
                "s3.amazonaws.com",
                "GetObject",
            ),
            row(None, "alice", "s3.amazonaws.com", "GetObject"),
        ];
        let data = stacked(&rows, |r| r.principal.clone(), &window, Selection::top(2));
        assert_eq!(data.bucket, Bucket::Fixed(30 * MINUTE_MS));
        assert_eq!(data.starts.len(), 48);
        assert_eq!(data.starts[0], window.from_ms);
        assert_eq!(data.starts[1], window.from_ms + 30 * MINUTE_MS);
        let labels: Vec<&str> = data.series.iter().map(|s| s.label.as_str()).collect();
        // alice has the most; bob, carol and dave tie and go by name; the rest are counted.
        assert_eq!(labels, ["alice", "bob"]);
        assert_eq!(data.series[0].total, 2);
        assert_eq!(data.series[0].counts[0], 2);
        assert_eq!(data.series[1].counts[1], 1);
        assert_eq!(data.not_drawn, NotDrawn { keys: 2, rows: 2 });
        for series in &data.series {
            assert_eq!(series.total, series.counts.iter().sum::<u64>());
            assert_eq!(series.counts.len(), 48);
        }
        assert_eq!(data.series.iter().map(|s| s.total).sum::<u64>(), 3);
    }

    #[test]
    fn stacked_buckets_align_to_the_width_not_the_window() {
        let window = window("2019-10-29T06:10:00Z", "2019-10-29T18:10:00Z");
        let rows = vec![
            row(Some("2019-10-29T06:10:00Z"), "a", "s3.amazonaws.com", "X"),
            row(Some("2019-10-29T18:09:59Z"), "a", "s3.amazonaws.com", "X"),
        ];
        let data = stacked(&rows, |r| r.service.clone(), &window, Selection::top(8));
        // 15-minute buckets from 06:00 would need 49 to reach 18:10.
        assert_eq!(data.bucket, Bucket::Fixed(30 * MINUTE_MS));
        assert_eq!(iso_time(data.starts[0]), "2019-10-29T06:00:00Z");
        assert_eq!(iso_time(data.starts[24]), "2019-10-29T18:00:00Z");
        assert_eq!(data.starts.len(), 25);
        assert_eq!(data.series.len(), 1);
        assert_eq!(data.series[0].counts[0], 1);
        assert_eq!(data.series[0].counts[24], 1);
        assert_eq!(data.series[0].total, 2);
    }

    #[test]
    fn stacked_without_more_keys_than_top_has_no_other_series() {
        let window = window("2019-10-29T00:00:00Z", "2019-10-29T01:00:00Z");
        let rows = vec![row(Some("2019-10-29T00:07:00Z"), "a", "s", "X")];
        let data = stacked(&rows, |r| r.principal.clone(), &window, Selection::top(8));
        assert_eq!(data.series.len(), 1);
        assert_eq!(data.starts.len(), 12);
        assert_eq!(data.series[0].counts[1], 1);
        let none = stacked(&[], |r| r.principal.clone(), &window, Selection::top(8));
        assert!(none.series.is_empty());
        assert_eq!(none.starts.len(), 12);
    }

    #[test]
    fn top_actions_ranks_by_count_then_name() {
        let rows = vec![
            row(None, "a", "s3.amazonaws.com", "GetObject"),
            row(None, "a", "s3.amazonaws.com", "GetObject"),
            row(None, "a", "iam.amazonaws.com", "GetRole"),
            row(None, "a", "ec2.amazonaws.com", "RunInstances"),
            row(None, "a", "ec2.amazonaws.com", "RunInstances"),
            row(None, "a", "kms.amazonaws.com", "Decrypt"),
        ];
        assert_eq!(
            top_actions(&rows, 3),
            [
                ("ec2:RunInstances".to_string(), 2),
                ("s3:GetObject".to_string(), 2),
                ("iam:GetRole".to_string(), 1),
            ]
        );
        assert_eq!(top_actions(&rows, 10).len(), 4);
        assert!(top_actions(&[], 10).is_empty());
    }

    #[test]
    fn escape_covers_the_five_xml_characters() {
        assert_eq!(
            escape(r#"<a href="x">Tom & 'Jerry'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;"
        );
        assert_eq!(escape("plain"), "plain");
    }

    #[test]
    fn long_arns_keep_the_role_name_and_lose_the_account_and_session_first() {
        let sso = "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_AdministratorAccess_0123456789abcdef/alice@example.com";
        let short = shorten(sso);
        assert_eq!(short.chars().count(), 60, "{short}");
        assert_eq!(
            short,
            "AWSReservedSSO_AdministratorAccess_0123456789abcdef/alice@e…"
        );
        let session = "arn:aws:sts::123456789012:assumed-role/VeryLongRoleNameForTheBatchJobs/i-0123456789abcdef0-session";
        assert_eq!(
            shorten(session),
            "…9012:assumed-role/VeryLongRoleNameForTheBatchJobs/i-012345…"
        );
        assert_eq!(
            shorten(
                "arn:aws:sts::123456789012:assumed-role/RoleWithAName/botocore-session-1700000000"
            ),
            "…9012:assumed-role/RoleWithAName/botocore-session-1700000000"
        );
        let user = format!("arn:aws:iam::111122223333:user/{}", "x".repeat(80));
        let short = shorten(&user);
        assert_eq!(short.chars().count(), 60);
        assert!(short.starts_with("xxx") && short.contains('…'), "{short}");
        let pathed = "arn:aws:iam::111122223333:role/service-role/a/very/long/path/ServiceRoleForTheNightlyExport";
        assert_eq!(
            shorten(pathed),
            "…3333:role/…/ServiceRoleForTheNightlyExport"
        );
        assert_eq!(
            shorten(&format!("not an arn {}", "y".repeat(70)))
                .chars()
                .count(),
            60
        );
        assert_eq!(shorten("short"), "short");
    }

    #[test]
    fn stacked_svg_shows_each_count_once_with_its_bucket() {
        let window = window("2019-10-29T00:00:00Z", "2019-10-30T00:00:00Z");
        let long = format!("arn:aws:iam::111122223333:user/{}", "x".repeat(80));
        let rows = vec![
            row(Some("2019-10-29T06:00:00Z"), "a<b>&\"c'", "s", "X"),
            row(Some("2019-10-29T06:10:00Z"), "a<b>&\"c'", "s", "X"),
            row(Some("2019-10-29T06:20:00Z"), &long, "s", "X"),
            row(Some("2019-10-29T09:00:00Z"), "ec2.amazonaws.com", "s", "X"),
            row(Some("2019-10-29T09:00:00Z"), "z", "s", "X"),
        ];
        let apart = |label: &str| label.ends_with(".amazonaws.com");
        let selection = Selection {
            top: 1,
            top_apart: 1,
            apart: &apart,
        };
        let data = stacked(&rows, |r| r.principal.clone(), &window, selection);
        let svg = stacked_bars_svg("chart-principals", "By <principal>", &data, "AWS services");
        assert!(svg.starts_with(
            r#"<svg id="chart-principals" class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 760 "#
        ));
        assert!(svg.contains(r#"role="img" aria-label="By &lt;principal&gt;""#));
        assert!(svg.ends_with("</svg>"));
        assert_eq!(bars(&svg), (2, 3));
        assert_eq!(data.not_drawn, NotDrawn { keys: 2, rows: 2 });
        assert!(svg.contains(
            r#"<rect class="bar" data-series="a&lt;b&gt;&amp;&quot;c&#39;" data-start="2019-10-29T06:00:00Z" data-count="2""#
        ));
        assert!(svg.contains(
            r"<title>a&lt;b&gt;&amp;&quot;c&#39;: 2 denials from 2019-10-29 06:00 to 2019-10-29 06:30 UTC</title>"
        ));
        assert!(svg.contains(
            r#"<g class="legend-item" data-series="a&lt;b&gt;&amp;&quot;c&#39;" data-total="2">"#
        ));
        // The service principal is drawn in grey, under its own heading, after the others.
        assert!(svg.contains(
            r#"<g class="legend-item" data-series="ec2.amazonaws.com" data-total="1" data-apart="true">"#
        ));
        assert!(svg.contains(&format!("fill=\"{}\"", APART_PALETTE[0])));
        assert!(
            svg.find(">AWS services</text>").unwrap() < svg.find(">ec2.amazonaws.com (1)").unwrap()
        );
        assert!(svg.contains(">a&lt;b&gt;&amp;&quot;c&#39; (2)</text>"));
        assert!(svg.contains(">denials per 30 minutes</text>"));
        assert!(svg.contains(">10-29 00:00</text>"));
        assert!(svg.contains(">04:00</text>"));
        assert!(!svg.contains("<b>"));
        assert!(!svg.contains(&long), "the third principal is not drawn");
    }

    #[test]
    fn stacked_svg_names_long_principals_in_full_only_in_titles_and_data() {
        let window = window("2019-10-29T00:00:00Z", "2019-10-30T00:00:00Z");
        let long = format!("arn:aws:iam::111122223333:user/{}", "x".repeat(80));
        let rows = vec![row(Some("2019-10-29T06:00:00Z"), &long, "s", "X")];
        let data = stacked(&rows, |r| r.principal.clone(), &window, Selection::top(8));
        let svg = stacked_bars_svg("c", "t", &data, "apart");
        assert!(svg.contains(&format!(r#"data-series="{long}""#)));
        assert!(svg.contains(&format!("<title>{long}: 1 denial</title>")));
        assert!(svg.contains(&format!(">{} (1)</text>", shorten(&long))));
        // The y axis has round integer ticks up to the peak.
        assert!(svg.contains(r#"dy="0.32em">0</text>"#));
        assert!(svg.contains(r#"dy="0.32em">1</text>"#));
    }

    #[test]
    fn day_buckets_are_labelled_by_date() {
        let window = window("2019-10-01T00:00:00Z", "2019-10-31T00:00:00Z");
        let rows = vec![row(Some("2019-10-02T06:00:00Z"), "a", "s", "X")];
        let data = stacked(&rows, |r| r.principal.clone(), &window, Selection::top(8));
        assert_eq!(data.bucket, Bucket::Fixed(DAY_MS));
        let svg = stacked_bars_svg("c", "t", &data, "apart");
        assert!(svg.contains(">2019-10-01</text>"), "{svg}");
        assert!(svg.contains(">denials per day</text>"), "{svg}");
        assert!(svg.contains(r#"data-start="2019-10-02T00:00:00Z" data-count="1""#));
    }

    #[test]
    fn empty_charts_say_so() {
        let window = window("2019-10-29T00:00:00Z", "2019-10-30T00:00:00Z");
        let data = stacked(&[], |r| r.principal.clone(), &window, Selection::top(8));
        let svg = stacked_bars_svg("chart-services", "Services", &data, "apart");
        assert!(svg.starts_with(r#"<svg id="chart-services" class="chart""#));
        assert!(svg.contains(">No denials in this window</text>"));
        assert_eq!(bars(&svg), (0, 0));
        let svg = horizontal_bars_svg("chart-actions", "Actions", &[]);
        assert!(svg.starts_with(r#"<svg id="chart-actions" class="chart""#));
        assert!(svg.contains(">No denials in this window</text>"));
    }

    #[test]
    fn horizontal_bars_scale_to_the_largest_count() {
        let items = vec![
            ("s3:GetObject".to_string(), 10),
            ("iam:<Get>Role".to_string(), 5),
        ];
        let svg = horizontal_bars_svg("chart-actions", "Top denied actions", &items);
        assert_eq!(bars(&svg), (2, 15));
        assert!(svg.contains(r#"<rect class="bar" data-label="s3:GetObject" data-count="10""#));
        assert!(svg.contains(r#"data-label="iam:&lt;Get&gt;Role" data-count="5""#));
        assert!(svg.contains("<title>s3:GetObject: 10 denials</title>"));
        assert!(svg.contains(">10</text>"));
        assert!(svg.contains(">5</text>"));
        let width = |label: &str| -> f64 {
            let piece = svg
                .split(&format!(r#"data-label="{label}""#))
                .nth(1)
                .expect("bar present");
            piece
                .split(r#"width=""#)
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .and_then(|w| w.parse().ok())
                .expect("bar has a width")
        };
        let (long, short) = (width("s3:GetObject"), width("iam:&lt;Get&gt;Role"));
        assert!((long - 2.0 * short).abs() < 0.2, "{long} vs {short}");
    }

    /// Whether labels of ~7px characters centred on their buckets would touch.
    fn overlapping(labels: &[(usize, String)], buckets: usize, plot_width: f64) -> bool {
        let slot = plot_width / buckets as f64;
        labels.windows(2).any(|pair| {
            let [(a, ta), (b, tb)] = pair else {
                return false;
            };
            let centre = |i: usize| slot * i as f64 + slot / 2.0;
            let half = |t: &String| t.chars().count() as f64 * 7.0 / 2.0;
            centre(*a) + half(ta) >= centre(*b) - half(tb)
        })
    }

    #[test]
    fn x_labels_fall_on_round_times_and_never_touch() {
        let day = window("2019-10-29T00:00:00Z", "2019-10-30T00:00:00Z");
        let half_hours: Vec<i64> = (0..48).map(|i| day.from_ms + i * 30 * MINUTE_MS).collect();
        let labels = x_labels(&half_hours, Bucket::Fixed(30 * MINUTE_MS), 664.0);
        let texts: Vec<&str> = labels.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(
            texts,
            ["10-29 00:00", "04:00", "08:00", "12:00", "16:00", "20:00"]
        );
        // From 07:00, labels start on the first round hour, not on the window's start.
        let from_seven: Vec<i64> = (0..25)
            .map(|i| day.from_ms + 7 * HOUR_MS + i * 30 * MINUTE_MS)
            .collect();
        let labels = x_labels(&from_seven, Bucket::Fixed(30 * MINUTE_MS), 664.0);
        assert_eq!(labels[0], (2, "10-29 08:00".to_string()));
        assert_eq!(labels[1].1, "10:00");

        // From an hour to 16 years, whatever the width: labels never touch and read as the
        // bucket's unit.
        for (from, to, first) in [
            (
                "2019-10-29T06:00:00Z",
                "2019-10-29T07:00:00Z",
                "10-29 06:00",
            ),
            ("2019-10-01T00:00:00Z", "2019-10-31T00:00:00Z", "2019-10-01"),
            ("2019-01-01T00:00:00Z", "2020-01-01T00:00:00Z", "2019-01"),
            ("2015-01-01T00:00:00Z", "2020-01-01T00:00:00Z", "2015 Q1"),
            ("2009-01-01T00:00:00Z", "2026-01-01T00:00:00Z", "2010"),
            ("1950-01-01T00:00:00Z", "2026-01-01T00:00:00Z", "1950"),
        ] {
            let w = window(from, to);
            let bucket = bucket_for(w.from_ms, w.to_ms);
            let starts = bucket.starts(w.from_ms, w.to_ms, 48).unwrap();
            for width in [664.0, 300.0] {
                let labels = x_labels(&starts, bucket, width);
                assert!(labels.len() >= 2, "{from}: {labels:?}");
                if width > 600.0 {
                    assert_eq!(labels[0].1, first, "{from} at {width}");
                }
                assert!(
                    !overlapping(&labels, starts.len(), width),
                    "{from} at {width}: {labels:?}"
                );
            }
        }
        let w = window("2009-01-01T00:00:00Z", "2026-01-01T00:00:00Z");
        let bucket = bucket_for(w.from_ms, w.to_ms);
        let starts = bucket.starts(w.from_ms, w.to_ms, 48).unwrap();
        let labels = x_labels(&starts, bucket, 664.0);
        assert!(
            labels
                .iter()
                .all(|(_, t)| t.len() == 4 && t.parse::<i32>().is_ok()),
            "{labels:?}"
        );
    }

    #[test]
    fn ticks_are_round() {
        assert_eq!(tick_step(1), 1);
        assert_eq!(tick_step(5), 1);
        assert_eq!(tick_step(6), 2);
        assert_eq!(tick_step(10), 2);
        assert_eq!(tick_step(11), 5);
        assert_eq!(tick_step(26), 10);
        assert_eq!(tick_step(1234), 500);
    }
}
