//! SVG line charts written by hand (no plotting crate): supply with its
//! halvings, subnet prices (spot and EMA), subnets' emission shares and
//! stake concentration; the same as small PNGs (`crate::png`).
//! Floats appear only here, to place pixels; the numbers plotted come from
//! the integer series.

use crate::compare::Comparison;
use crate::report::Outcome;
use crate::SimError;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

const W: f64 = 720.0;
const H: f64 = 360.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 150.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 50.0;
const COLOURS: [&str; 8] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
];

type Points = Vec<(f64, f64)>;

/// One named line.
struct Line {
    name: String,
    points: Points,
    dashed: bool,
    colour: usize,
}

/// Per subnet: spot and EMA price lines (one colour each, EMA dashed),
/// and its share of the TAO emission per sample interval (percent).
fn subnet_lines(outcome: &Outcome) -> (Vec<Line>, Vec<Line>) {
    let mut prices: BTreeMap<u16, (Points, Points)> = BTreeMap::new();
    let mut shares: BTreeMap<u16, Points> = BTreeMap::new();
    for r in &outcome.series.subnets {
        let p = prices.entry(r.netuid).or_default();
        p.0.push((r.block as f64, r.price.parse().unwrap_or(0.0)));
        p.1.push((r.block as f64, r.ema_price.parse().unwrap_or(0.0)));
        if r.block > 0 {
            shares
                .entry(r.netuid)
                .or_default()
                .push((r.block as f64, r.tao_share_ppm as f64 / 10_000.0));
        }
    }
    let mut price_lines = Vec::new();
    for (i, (n, (spot, ema))) in prices.into_iter().enumerate() {
        price_lines.push(Line {
            name: format!("sn{n} spot"),
            points: spot,
            dashed: false,
            colour: i,
        });
        price_lines.push(Line {
            name: format!("sn{n} EMA"),
            points: ema,
            dashed: true,
            colour: i,
        });
    }
    let share_lines = shares
        .into_iter()
        .enumerate()
        .map(|(i, (n, points))| Line {
            name: format!("sn{n}"),
            points,
            dashed: false,
            colour: i,
        })
        .collect();
    (price_lines, share_lines)
}

/// The top-1 and top-10 hotkeys' share of all stake value and the HHI,
/// in percent, per sample.
fn concentration_lines(outcome: &Outcome) -> Vec<Line> {
    let rows = &outcome.series.stake;
    let line = |name: &str, colour: usize, f: fn(&crate::report::StakeRow) -> u64| Line {
        name: name.into(),
        points: rows
            .iter()
            .map(|r| (r.block as f64, f(r) as f64 / 10_000.0))
            .collect(),
        dashed: false,
        colour,
    };
    vec![
        line("top 1", 0, |r| r.top1_ppm),
        line("top 10", 1, |r| r.top10_ppm),
        line("HHI", 2, |r| r.hhi_ppm),
    ]
}

/// Writes a rule comparison's charts into `dir`: `shares-<rule>.svg` and
/// `prices-<rule>.svg` per rule, and `validator-income.svg` (cumulative
/// validator + root income over all subnets, in TAO, one line per rule),
/// each also as a `.png` ([`write_comparison_png`]).
pub fn write_comparison(cmp: &Comparison, dir: &Path) -> Result<Vec<PathBuf>, SimError> {
    let mut charts = Vec::new();
    let mut income = Vec::new();
    for (i, (rule, outcome)) in cmp.runs.iter().enumerate() {
        let (price_lines, share_lines) = subnet_lines(outcome);
        charts.push((
            format!("shares-{rule}.svg"),
            chart(
                &format!("Share of TAO emission under {rule}"),
                "percent",
                &share_lines,
                &[],
            ),
        ));
        charts.push((
            format!("prices-{rule}.svg"),
            chart(
                &format!("Subnet prices under {rule}"),
                "TAO per alpha",
                &price_lines,
                &[],
            ),
        ));
        let mut total: BTreeMap<u64, u64> = BTreeMap::new();
        for r in &outcome.series.subnets {
            *total.entry(r.block).or_default() += r.validator_income_rao;
        }
        income.push(Line {
            name: rule.to_string(),
            points: total
                .into_iter()
                .map(|(b, rao)| (b as f64, rao as f64 / 1e9))
                .collect(),
            dashed: false,
            colour: i,
        });
    }
    charts.push((
        "validator-income.svg".into(),
        chart(
            "Validator income (all subnets, cumulative)",
            "TAO",
            &income,
            &[],
        ),
    ));
    let mut written = Vec::new();
    for (file, svg) in charts {
        let path = dir.join(file);
        crate::report::write_file(&path, &svg)?;
        written.push(path);
    }
    written.extend(write_comparison_png(cmp, dir)?);
    Ok(written)
}

/// Writes `supply`, `prices`, `shares` and `concentration` into `dir`,
/// each as `.svg`
/// (titled, labelled axes and legend) and `.png` (the lines only).
pub fn write(outcome: &Outcome, dir: &Path) -> Result<Vec<PathBuf>, SimError> {
    let s = &outcome.series;
    let tao = |rao: u64| rao as f64 / 1e9;
    let supply = vec![Line {
        name: "issuance".into(),
        points: s
            .global
            .iter()
            .map(|r| (r.block as f64, tao(r.issuance_rao)))
            .collect(),
        dashed: false,
        colour: 0,
    }];
    let halvings: Vec<f64> = outcome
        .report
        .halvings
        .iter()
        .map(|h| h.block as f64)
        .collect();
    let (price_lines, share_lines) = subnet_lines(outcome);
    let concentration = concentration_lines(outcome);
    let charts = [
        (
            "supply.svg",
            chart(
                "Total issuance (halvings marked)",
                "TAO",
                &supply,
                &halvings,
            ),
        ),
        (
            "prices.svg",
            chart("Subnet prices", "TAO per alpha", &price_lines, &[]),
        ),
        (
            "shares.svg",
            chart("Share of TAO emission", "percent", &share_lines, &[]),
        ),
        (
            "concentration.svg",
            chart(
                "Stake concentration (hotkey stake values)",
                "percent",
                &concentration,
                &[],
            ),
        ),
    ];
    let mut written = Vec::new();
    for (file, svg) in charts {
        let path = dir.join(file);
        crate::report::write_file(&path, &svg)?;
        written.push(path);
    }
    // The same three as small PNGs (no text; for pages that show no SVG).
    let pngs = vec![
        ("supply.png".to_string(), png_chart(&supply, &halvings)),
        ("prices.png".to_string(), png_chart(&price_lines, &[])),
        ("shares.png".to_string(), png_chart(&share_lines, &[])),
        (
            "concentration.png".to_string(),
            png_chart(&concentration, &[]),
        ),
    ];
    written.extend(write_pngs(dir, pngs)?);
    Ok(written)
}

fn chart(title: &str, y_label: &str, lines: &[Line], markers: &[f64]) -> String {
    let all = lines.iter().flat_map(|l| l.points.iter());
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in all {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    if x0 > x1 {
        (x0, x1, y0, y1) = (0.0, 1.0, 0.0, 1.0);
    }
    if (x1 - x0).abs() < f64::EPSILON {
        x1 = x0 + 1.0;
    }
    if (y1 - y0).abs() < 1e-12 {
        let pad = if y0.abs() > 0.0 { y0.abs() * 0.01 } else { 1.0 };
        y0 -= pad;
        y1 += pad;
    }
    let pw = W - LEFT - RIGHT;
    let ph = H - TOP - BOTTOM;
    let px = |x: f64| LEFT + (x - x0) / (x1 - x0) * pw;
    let py = |y: f64| TOP + ph - (y - y0) / (y1 - y0) * ph;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(s, r#"<rect width="{W}" height="{H}" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="22" font-size="14" text-anchor="middle">{}</text>"#,
        W / 2.0,
        esc(title)
    );
    // Axes, ticks and grid.
    let _ = writeln!(
        s,
        r##"<rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" fill="none" stroke="#444"/>"##
    );
    for i in 0..=4 {
        let f = f64::from(i) / 4.0;
        let (x, y) = (x0 + f * (x1 - x0), y0 + f * (y1 - y0));
        let _ = writeln!(
            s,
            r##"<line x1="{LEFT}" x2="{:.2}" y1="{:.2}" y2="{:.2}" stroke="#ddd"/><text x="{:.2}" y="{:.2}" text-anchor="end">{}</text>"##,
            LEFT + pw,
            py(y),
            py(y),
            LEFT - 6.0,
            py(y) + 4.0,
            num(y, (y1 - y0) / 4.0)
        );
        let _ = writeln!(
            s,
            r#"<text x="{:.2}" y="{:.2}" text-anchor="middle">{}</text>"#,
            px(x),
            TOP + ph + 16.0,
            num(x, (x1 - x0) / 4.0)
        );
    }
    let _ = writeln!(
        s,
        r#"<text x="{:.2}" y="{:.2}" text-anchor="middle">block</text>"#,
        LEFT + pw / 2.0,
        H - 12.0
    );
    let _ = writeln!(
        s,
        r#"<text x="16" y="{:.2}" text-anchor="middle" transform="rotate(-90 16 {:.2})">{}</text>"#,
        TOP + ph / 2.0,
        TOP + ph / 2.0,
        esc(y_label)
    );
    for &m in markers {
        let _ = writeln!(
            s,
            r##"<line x1="{:.2}" x2="{:.2}" y1="{TOP}" y2="{:.2}" stroke="#888" stroke-dasharray="4 3"/><text x="{:.2}" y="{:.2}" fill="#555">halving {}</text>"##,
            px(m),
            px(m),
            TOP + ph,
            px(m) + 3.0,
            TOP + 12.0,
            m as u64
        );
    }
    for (i, l) in lines.iter().enumerate() {
        let colour = COLOURS[l.colour % COLOURS.len()];
        let mut d = String::new();
        for (j, &(x, y)) in l.points.iter().enumerate() {
            let _ = write!(
                d,
                "{}{:.2},{:.2}",
                if j == 0 { "M" } else { " L" },
                px(x),
                py(y)
            );
        }
        let dash = if l.dashed {
            r#" stroke-dasharray="5 3""#
        } else {
            ""
        };
        let _ = writeln!(
            s,
            r#"<path d="{d}" fill="none" stroke="{colour}" stroke-width="1.5"{dash}/>"#
        );
        let ly = TOP + 10.0 + 16.0 * i as f64;
        let lx = W - RIGHT + 12.0;
        let _ = writeln!(
            s,
            r#"<line x1="{lx}" x2="{:.2}" y1="{ly:.2}" y2="{ly:.2}" stroke="{colour}" stroke-width="2"{dash}/><text x="{:.2}" y="{:.2}">{}</text>"#,
            lx + 20.0,
            lx + 25.0,
            ly + 4.0,
            esc(&l.name)
        );
    }
    s.push_str("</svg>\n");
    s
}

/// A compact axis label with enough decimals to tell ticks `step` apart.
fn num(v: f64, step: f64) -> String {
    let a = v.abs().max(step.abs());
    let (scaled, sstep, unit) = if a >= 1e6 {
        (v / 1e6, step / 1e6, "M")
    } else if a >= 1e4 {
        (v / 1e3, step / 1e3, "k")
    } else {
        (v, step, "")
    };
    let decimals = if sstep > 0.0 {
        (-sstep.log10()).ceil().clamp(0.0, 10.0) as usize
    } else {
        0
    };
    format!("{scaled:.decimals$}{unit}")
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The same line charts as PNG rasters (no text: axes box, quarter grid
/// lines, the lines in the SVG colours, EMA dashed as every other
/// segment). For the README, via `examples/readme_plots.rs`.
fn png_chart(lines: &[Line], markers: &[f64]) -> Vec<u8> {
    let (w, h, l, r, t, b) = (480usize, 240usize, 10.0, 10.0, 10.0, 10.0);
    let mut c = crate::png::Canvas::new(w, h);
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in lines.iter().flat_map(|l| l.points.iter()) {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    if x0 > x1 {
        (x0, x1, y0, y1) = (0.0, 1.0, 0.0, 1.0);
    }
    if (x1 - x0).abs() < f64::EPSILON {
        x1 = x0 + 1.0;
    }
    if (y1 - y0).abs() < 1e-12 {
        y1 = y0 + 1.0;
    }
    let (pw, ph) = (w as f64 - l - r, h as f64 - t - b);
    let px = |x: f64| (l + (x - x0) / (x1 - x0) * pw).round() as i64;
    let py = |y: f64| (t + ph - (y - y0) / (y1 - y0) * ph).round() as i64;
    let grey = [221, 221, 221];
    for i in 1..4 {
        let f = f64::from(i) / 4.0;
        let y = py(y0 + f * (y1 - y0));
        c.line((px(x0), y), (px(x1), y), grey, 1);
        let x = px(x0 + f * (x1 - x0));
        c.line((x, py(y0)), (x, py(y1)), grey, 1);
    }
    let frame = [68, 68, 68];
    let corners = [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)];
    for w2 in corners.windows(2) {
        c.line(
            (px(w2[0].0), py(w2[0].1)),
            (px(w2[1].0), py(w2[1].1)),
            frame,
            1,
        );
    }
    // Halvings: full-height vertical lines in the SVG's marker grey.
    for &m in markers {
        if (x0..=x1).contains(&m) {
            c.line((px(m), py(y0)), (px(m), py(y1)), [136, 136, 136], 1);
        }
    }
    for line in lines {
        let rgb = rgb(COLOURS[line.colour % COLOURS.len()]);
        for (i, s) in line.points.windows(2).enumerate() {
            if line.dashed && i % 2 == 1 {
                continue;
            }
            c.line((px(s[0].0), py(s[0].1)), (px(s[1].0), py(s[1].1)), rgb, 2);
        }
    }
    c.encode()
}

fn rgb(hex: &str) -> [u8; 3] {
    let v = u32::from_str_radix(hex.trim_start_matches('#'), 16).unwrap_or(0);
    [(v >> 16) as u8, (v >> 8) as u8, v as u8]
}

/// Writes `shares-<rule>.png` and `prices-<rule>.png` per rule and
/// `validator-income.png` (the comparison's charts as small PNGs).
pub fn write_comparison_png(cmp: &Comparison, dir: &Path) -> Result<Vec<PathBuf>, SimError> {
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut income = Vec::new();
    for (i, (rule, outcome)) in cmp.runs.iter().enumerate() {
        let (price_lines, share_lines) = subnet_lines(outcome);
        files.push((format!("shares-{rule}.png"), png_chart(&share_lines, &[])));
        files.push((format!("prices-{rule}.png"), png_chart(&price_lines, &[])));
        let mut total: BTreeMap<u64, u64> = BTreeMap::new();
        for r in &outcome.series.subnets {
            *total.entry(r.block).or_default() += r.validator_income_rao;
        }
        income.push(Line {
            name: rule.to_string(),
            points: total
                .into_iter()
                .map(|(b, rao)| (b as f64, rao as f64 / 1e9))
                .collect(),
            dashed: false,
            colour: i,
        });
    }
    files.push(("validator-income.png".into(), png_chart(&income, &[])));
    write_pngs(dir, files)
}

/// Writes each `(file, PNG bytes)` into `dir` (created if missing).
fn write_pngs(dir: &Path, files: Vec<(String, Vec<u8>)>) -> Result<Vec<PathBuf>, SimError> {
    let mut written = Vec::new();
    for (file, bytes) in files {
        let path = dir.join(file);
        let io = |e| SimError::Io {
            path: path.display().to_string(),
            source: e,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        std::fs::write(&path, bytes).map_err(io)?;
        written.push(path);
    }
    Ok(written)
}
