//! The report's figures: denials bucketed over the window, and their inline SVG drawings.
//!
//! The counting ([`stacked`], [`top_actions`]) is kept apart from the drawing so that tests can
//! check the numbers a chart shows without reading SVG. The drawings carry their numbers in
//! `data-*` attributes too, for the same reason.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use crate::{DenialRow, Window};

const MINUTE_MS: i64 = 60 * 1000;
const HOUR_MS: i64 = 60 * MINUTE_MS;
const DAY_MS: i64 = 24 * HOUR_MS;

/// Bucket widths a reader recognises at a glance, smallest first.
const BUCKET_WIDTHS_MS: [i64; 12] = [
    5 * MINUTE_MS,
    15 * MINUTE_MS,
    30 * MINUTE_MS,
    HOUR_MS,
    2 * HOUR_MS,
    3 * HOUR_MS,
    6 * HOUR_MS,
    12 * HOUR_MS,
    DAY_MS,
    2 * DAY_MS,
    7 * DAY_MS,
    30 * DAY_MS,
];

/// More bars than this get too thin to hover or to read.
const MAX_BUCKETS: i64 = 48;

/// Okabe-Ito, which stays distinguishable for the common forms of colour blindness.
const PALETTE: [&str; 8] = [
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000",
];
/// The merged remainder is grey, so it never reads as one more principal or service.
const OTHER_COLOUR: &str = "#AAAAAA";

/// Display labels longer than this are shortened; the full text stays in `<title>`.
const LABEL_MAX_CHARS: usize = 60;

const EMPTY_TEXT: &str = "No denials in this window";

const SVG_WIDTH: f64 = 760.0;
const FONT_FAMILY: &str =
    "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif";
const TEXT_COLOUR: &str = "#333333";
const GRID_COLOUR: &str = "#DDDDDD";

/// Counts per time bucket, one series per key, ready to stack.
#[derive(Debug, Clone, PartialEq)]
pub struct StackedSeries {
    pub bucket_ms: i64,
    /// Start of each bucket, milliseconds since the epoch.
    pub starts: Vec<i64>,
    /// Largest first; a merged remainder, if any, last.
    pub series: Vec<Series>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub label: String,
    /// One count per bucket, in the order of [`StackedSeries::starts`].
    pub counts: Vec<u64>,
    pub total: u64,
}

/// The smallest readable bucket width that splits `[from_ms, to_ms)` into at most 48 buckets,
/// counting the partial first bucket that alignment to the width adds.
pub fn bucket_width(from_ms: i64, to_ms: i64) -> i64 {
    BUCKET_WIDTHS_MS
        .iter()
        .copied()
        .find(|&width| bucket_count(from_ms, to_ms, width) <= MAX_BUCKETS)
        .unwrap_or(BUCKET_WIDTHS_MS[BUCKET_WIDTHS_MS.len() - 1])
}

fn aligned_start(from_ms: i64, width: i64) -> i64 {
    from_ms.div_euclid(width) * width
}

fn bucket_count(from_ms: i64, to_ms: i64, width: i64) -> i64 {
    if to_ms <= from_ms {
        return 0;
    }
    let span = to_ms - aligned_start(from_ms, width);
    span.div_euclid(width) + i64::from(span.rem_euclid(width) != 0)
}

/// Buckets the window's rows by time and by `key`: the `top` keys with the most rows each get a
/// series, the rest share one last series named `other (N more)`.
pub fn stacked(
    rows: &[DenialRow],
    key: impl Fn(&DenialRow) -> String,
    window: &Window,
    top: usize,
) -> StackedSeries {
    let bucket_ms = bucket_width(window.from_ms, window.to_ms);
    let first = aligned_start(window.from_ms, bucket_ms);
    let buckets = bucket_count(window.from_ms, window.to_ms, bucket_ms);
    let starts: Vec<i64> = (0..buckets).map(|i| first + i * bucket_ms).collect();

    let mut by_key: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for row in rows {
        let Some(time) = row.time_ms else { continue };
        if time < window.from_ms || time >= window.to_ms {
            continue;
        }
        let index = usize::try_from((time - first) / bucket_ms).unwrap_or(0);
        let counts = by_key
            .entry(key(row))
            .or_insert_with(|| vec![0; starts.len()]);
        counts[index] += 1;
    }

    let mut ranked: Vec<Series> = by_key
        .into_iter()
        .map(|(label, counts)| Series {
            total: counts.iter().sum(),
            label,
            counts,
        })
        .collect();
    ranked.sort_by(|a, b| b.total.cmp(&a.total).then_with(|| a.label.cmp(&b.label)));

    let rest = ranked.split_off(top.min(ranked.len()));
    if !rest.is_empty() {
        let mut counts = vec![0; starts.len()];
        for series in &rest {
            for (sum, count) in counts.iter_mut().zip(&series.counts) {
                *sum += count;
            }
        }
        ranked.push(Series {
            label: other_label(rest.len()),
            total: counts.iter().sum(),
            counts,
        });
    }
    StackedSeries {
        bucket_ms,
        starts,
        series: ranked,
    }
}

fn other_label(keys: usize) -> String {
    format!("other ({keys} more)")
}

fn is_other_label(label: &str) -> bool {
    label.starts_with("other (") && label.ends_with(" more)")
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

/// Shortens a label for display. The ellipsis goes in the middle because the end of an ARN (the
/// role, user or session name) tells principals apart better than its common prefix.
pub(crate) fn shorten(label: &str) -> String {
    let chars: Vec<char> = label.chars().collect();
    if chars.len() <= LABEL_MAX_CHARS {
        return label.to_string();
    }
    // `arn:aws:sts::111122223333:` is 26 characters: the account stays readable.
    let head = 26;
    let tail = LABEL_MAX_CHARS - head - 1;
    let mut short: String = chars[..head].iter().collect();
    short.push('…');
    short.extend(&chars[chars.len() - tail..]);
    short
}

fn iso_time(ms: i64) -> String {
    match DateTime::<Utc>::from_timestamp_millis(ms) {
        Some(time) => time.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        None => ms.to_string(),
    }
}

/// An axis label: the date alone when buckets are whole days, else month, day and time.
fn axis_time(ms: i64, bucket_ms: i64) -> String {
    let pattern = if bucket_ms >= DAY_MS {
        "%Y-%m-%d"
    } else {
        "%m-%d %H:%M"
    };
    match DateTime::<Utc>::from_timestamp_millis(ms) {
        Some(time) => time.format(pattern).to_string(),
        None => ms.to_string(),
    }
}

fn hover_time(ms: i64) -> String {
    match DateTime::<Utc>::from_timestamp_millis(ms) {
        Some(time) => time.format("%Y-%m-%d %H:%M").to_string(),
        None => ms.to_string(),
    }
}

fn colour(index: usize, label: &str) -> &'static str {
    if is_other_label(label) {
        OTHER_COLOUR
    } else {
        PALETTE[index % PALETTE.len()]
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

/// Denials over time as stacked bars, one colour per series, with a legend of totals.
pub fn stacked_bars_svg(id: &str, title: &str, data: &StackedSeries) -> String {
    let buckets = data.starts.len();
    if buckets == 0 || data.series.iter().all(|s| s.total == 0) {
        return empty_svg(id, title);
    }
    let (left, right, top, plot_height, axis_height) = (52.0, 16.0, 12.0, 240.0, 36.0);
    let legend_line = 20.0;
    let plot_width = SVG_WIDTH - left - right;
    let baseline = top + plot_height;
    let legend_top = baseline + axis_height;
    let height = legend_top + legend_line * data.series.len() as f64 + 8.0;

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
                fill = colour(index, &series.label),
                denials = plural(count, "denial", "denials"),
                from = hover_time(start),
                to = hover_time(start + data.bucket_ms),
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
    let (first_label, label_every) = x_label_spacing(&data.starts, data.bucket_ms, plot_width);
    out.push_str(r#"<g class="x-labels" text-anchor="middle">"#);
    for (bucket, &start) in data
        .starts
        .iter()
        .enumerate()
        .skip(first_label)
        .step_by(label_every)
    {
        let x = left + slot * bucket as f64 + slot / 2.0;
        let _ = write!(
            out,
            r#"<line x1="{x}" x2="{x}" y1="{baseline}" y2="{tick_end}" stroke="{TEXT_COLOUR}" stroke-width="1"/><text x="{x}" y="{y}">{text}</text>"#,
            x = number(x),
            baseline = number(baseline),
            tick_end = number(baseline + 4.0),
            y = number(baseline + 18.0),
            text = escape(&axis_time(start, data.bucket_ms)),
        );
    }
    out.push_str("</g>");

    out.push_str(r#"<g class="legend">"#);
    for (index, series) in data.series.iter().enumerate() {
        let y = legend_top + legend_line * index as f64;
        let _ = write!(
            out,
            r#"<g class="legend-item" data-series="{label}" data-total="{total}"><title>{label}: {denials}</title><rect x="{left}" y="{y}" width="12" height="12" fill="{fill}"/><text x="{tx}" y="{ty}">{short} ({total})</text></g>"#,
            label = escape(&series.label),
            total = series.total,
            denials = plural(series.total, "denial", "denials"),
            left = number(left),
            y = number(y),
            fill = colour(index, &series.label),
            tx = number(left + 18.0),
            ty = number(y + 10.5),
            short = escape(&shorten(&series.label)),
        );
    }
    out.push_str("</g></svg>");
    out
}

/// Which buckets get an x label: (first, every). About one label per 95 pixels keeps
/// `10-29 06:00` labels from touching; labelling every 2, 4, 6, 8, 12 ... buckets from a round
/// time puts them on round hours (00:00, 04:00, 08:00) rather than wherever the window began.
fn x_label_spacing(starts: &[i64], bucket_ms: i64, plot_width: f64) -> (usize, usize) {
    let labels_that_fit = ((plot_width / 95.0) as usize).max(1);
    let needed = starts.len().div_ceil(labels_that_fit).max(1);
    let every = [1, 2, 3, 4, 6, 8, 12, 24, 48]
        .into_iter()
        .find(|&every| every >= needed)
        .unwrap_or(needed);
    if bucket_ms >= DAY_MS {
        // Dates have no round value to snap to: start with the window's first day.
        return (0, every);
    }
    let period = bucket_ms.saturating_mul(every as i64);
    let first = starts
        .iter()
        .take(every)
        .position(|start| start.rem_euclid(period) == 0)
        .unwrap_or(0);
    (first, every)
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
    fn bucket_width_is_the_smallest_giving_at_most_48_buckets() {
        assert_eq!(bucket_width(0, 4 * HOUR_MS), 5 * MINUTE_MS);
        // Misaligned by a minute, 5-minute buckets would need 49.
        assert_eq!(
            bucket_width(MINUTE_MS, 4 * HOUR_MS + MINUTE_MS),
            15 * MINUTE_MS
        );
        assert_eq!(bucket_width(0, 4 * HOUR_MS + 1), 15 * MINUTE_MS);
        assert_eq!(bucket_width(0, DAY_MS), 30 * MINUTE_MS);
        assert_eq!(bucket_width(0, 2 * DAY_MS), HOUR_MS);
        assert_eq!(bucket_width(0, 7 * DAY_MS), 6 * HOUR_MS);
        assert_eq!(bucket_width(0, 30 * DAY_MS), DAY_MS);
        assert_eq!(bucket_width(0, 365 * DAY_MS), 30 * DAY_MS);
        assert_eq!(bucket_width(0, 100 * 365 * DAY_MS), 30 * DAY_MS);
        assert_eq!(bucket_width(0, 0), 5 * MINUTE_MS);
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
        let data = stacked(&rows, |r| r.principal.clone(), &window, 2);
        assert_eq!(data.bucket_ms, 30 * MINUTE_MS);
        assert_eq!(data.starts.len(), 48);
        assert_eq!(data.starts[0], window.from_ms);
        assert_eq!(data.starts[1], window.from_ms + 30 * MINUTE_MS);
        let labels: Vec<&str> = data.series.iter().map(|s| s.label.as_str()).collect();
        // alice has the most; bob, carol and dave tie and go by name.
        assert_eq!(labels, ["alice", "bob", "other (2 more)"]);
        assert_eq!(data.series[0].total, 2);
        assert_eq!(data.series[0].counts[0], 2);
        assert_eq!(data.series[1].counts[1], 1);
        assert_eq!(data.series[2].counts[24], 1);
        assert_eq!(data.series[2].counts[47], 1);
        assert_eq!(data.series[2].total, 2);
        for series in &data.series {
            assert_eq!(series.total, series.counts.iter().sum::<u64>());
            assert_eq!(series.counts.len(), 48);
        }
        assert_eq!(data.series.iter().map(|s| s.total).sum::<u64>(), 5);
    }

    #[test]
    fn stacked_buckets_align_to_the_width_not_the_window() {
        let window = window("2019-10-29T06:10:00Z", "2019-10-29T18:10:00Z");
        let rows = vec![
            row(Some("2019-10-29T06:10:00Z"), "a", "s3.amazonaws.com", "X"),
            row(Some("2019-10-29T18:09:59Z"), "a", "s3.amazonaws.com", "X"),
        ];
        let data = stacked(&rows, |r| r.service.clone(), &window, 8);
        // 15-minute buckets from 06:00 would need 49 to reach 18:10.
        assert_eq!(data.bucket_ms, 30 * MINUTE_MS);
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
        let data = stacked(&rows, |r| r.principal.clone(), &window, 8);
        assert_eq!(data.series.len(), 1);
        assert_eq!(data.starts.len(), 12);
        assert_eq!(data.series[0].counts[1], 1);
        let none = stacked(&[], |r| r.principal.clone(), &window, 8);
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
    fn long_labels_are_shortened_in_the_middle() {
        let arn = "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_AdministratorAccess_0123456789abcdef/alice@example.com";
        let short = shorten(arn);
        assert_eq!(short.chars().count(), 60);
        assert!(short.starts_with("arn:aws:sts::111122223333:…"), "{short}");
        assert!(short.ends_with("/alice@example.com"), "{short}");
        assert!(short.contains('…'));
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
            row(Some("2019-10-29T09:00:00Z"), "z", "s", "X"),
        ];
        let data = stacked(&rows, |r| r.principal.clone(), &window, 1);
        let svg = stacked_bars_svg("chart-principals", "By <principal>", &data);
        assert!(svg.starts_with(
            r#"<svg id="chart-principals" class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 760 "#
        ));
        assert!(svg.contains(r#"role="img" aria-label="By &lt;principal&gt;""#));
        assert!(svg.ends_with("</svg>"));
        assert_eq!(bars(&svg), (3, 4));
        assert!(svg.contains(
            r#"<rect class="bar" data-series="a&lt;b&gt;&amp;&quot;c&#39;" data-start="2019-10-29T06:00:00Z" data-count="2""#
        ));
        assert!(svg.contains(
            r#"data-series="other (2 more)" data-start="2019-10-29T06:00:00Z" data-count="1""#
        ));
        assert!(svg.contains(
            r"<title>a&lt;b&gt;&amp;&quot;c&#39;: 2 denials from 2019-10-29 06:00 to 2019-10-29 06:30 UTC</title>"
        ));
        assert!(svg.contains(
            r#"<g class="legend-item" data-series="a&lt;b&gt;&amp;&quot;c&#39;" data-total="2">"#
        ));
        assert!(svg.contains(r#"data-series="other (2 more)" data-total="2""#));
        assert!(svg.contains(">a&lt;b&gt;&amp;&quot;c&#39; (2)</text>"));
        assert!(svg.contains(">other (2 more) (2)</text>"));
        assert!(svg.contains(&format!("fill=\"{OTHER_COLOUR}\"")));
        assert!(svg.contains(">10-29 00:00</text>"));
        assert!(!svg.contains("<b>"));
        assert!(
            !svg.contains(&long),
            "the third principal is merged into other"
        );
    }

    #[test]
    fn stacked_svg_names_long_principals_in_full_only_in_titles_and_data() {
        let window = window("2019-10-29T00:00:00Z", "2019-10-30T00:00:00Z");
        let long = format!("arn:aws:iam::111122223333:user/{}", "x".repeat(80));
        let rows = vec![row(Some("2019-10-29T06:00:00Z"), &long, "s", "X")];
        let data = stacked(&rows, |r| r.principal.clone(), &window, 8);
        let svg = stacked_bars_svg("c", "t", &data);
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
        let data = stacked(&rows, |r| r.principal.clone(), &window, 8);
        assert_eq!(data.bucket_ms, DAY_MS);
        let svg = stacked_bars_svg("c", "t", &data);
        assert!(svg.contains(">2019-10-01</text>"), "{svg}");
        assert!(svg.contains(r#"data-start="2019-10-02T00:00:00Z" data-count="1""#));
    }

    #[test]
    fn empty_charts_say_so() {
        let window = window("2019-10-29T00:00:00Z", "2019-10-30T00:00:00Z");
        let data = stacked(&[], |r| r.principal.clone(), &window, 8);
        let svg = stacked_bars_svg("chart-services", "Services", &data);
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

    #[test]
    fn x_labels_fall_on_round_times() {
        let day = window("2019-10-29T00:00:00Z", "2019-10-30T00:00:00Z");
        let starts: Vec<i64> = (0..48).map(|i| day.from_ms + i * 30 * MINUTE_MS).collect();
        // 48 half-hour buckets, 7 labels fit: every 8 buckets, that is every 4 hours.
        assert_eq!(x_label_spacing(&starts, 30 * MINUTE_MS, 692.0), (0, 8));
        // 25 buckets from 07:00: every 4, that is every 2 hours, from 08:00, the third bucket.
        let from_seven: Vec<i64> = (0..25)
            .map(|i| day.from_ms + 7 * HOUR_MS + i * 30 * MINUTE_MS)
            .collect();
        assert_eq!(x_label_spacing(&from_seven, 30 * MINUTE_MS, 692.0), (2, 4));
        assert_eq!(x_label_spacing(&starts[..3], 30 * MINUTE_MS, 692.0), (0, 1));
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
