//! The Overview's charts, drawn on the server as SVG with plotters: readable without
//! JavaScript, in a screenshot and in print. Each carries a `<title>` (its accessible name);
//! the page puts the same figures in a table behind "Show data".

use plotters::prelude::*;

use super::model::DailyRow;

const WIDTH: u32 = 720;
const HEIGHT: u32 = 280;
const PASSKEY: RGBColor = RGBColor(37, 99, 235);
const PASSWORD: RGBColor = RGBColor(100, 116, 139);
const OIDC: RGBColor = RGBColor(217, 119, 6);

/// The series of the logins chart: name, colour, and the day's figure.
type Series = (&'static str, RGBColor, fn(&DailyRow) -> i64);
const SERIES: [Series; 3] = [
    ("Passkey", PASSKEY, |d| d.passkey_logins),
    ("Password", PASSWORD, |d| d.password_logins),
    ("OIDC", OIDC, |d| d.oidc_logins),
];

/// Logins per day by method, one line each.
pub fn logins_per_day(days: &[DailyRow]) -> String {
    let title = "Logins per day by method";
    let mut svg = String::new();
    let drawn = draw_logins(&mut svg, days);
    finish(svg, drawn, title)
}

fn draw_logins(svg: &mut String, days: &[DailyRow]) -> Result<(), String> {
    let root = SVGBackend::with_string(svg, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let top = days
        .iter()
        .flat_map(|d| SERIES.iter().map(move |(_, _, figure)| figure(d)))
        .max()
        .unwrap_or(0)
        .max(4);
    let last = i32::try_from(days.len().saturating_sub(1))
        .unwrap_or(0)
        .max(1);
    let mut chart = ChartBuilder::on(&root)
        .margin(12)
        .x_label_area_size(28)
        .y_label_area_size(36)
        .build_cartesian_2d(0..last, 0..top + top / 8 + 1)
        .map_err(|e| e.to_string())?;
    let label = |i: &i32| {
        usize::try_from(*i)
            .ok()
            .and_then(|i| days.get(i))
            .map(|d| d.date.get(5..).unwrap_or(&d.date).to_string())
            .unwrap_or_default()
    };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(7)
        .y_labels(5)
        .x_label_formatter(&label)
        .label_style(("sans-serif", 12))
        .draw()
        .map_err(|e| e.to_string())?;
    for (name, colour, figure) in SERIES {
        let points = days
            .iter()
            .enumerate()
            .map(|(i, d)| (i32::try_from(i).unwrap_or(0), figure(d)));
        chart
            .draw_series(LineSeries::new(points, colour.stroke_width(2)))
            .map_err(|e| e.to_string())?
            .label(name)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], colour.stroke_width(3)));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.2))
        .label_font(("sans-serif", 12))
        .draw()
        .map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())
}

/// Passkeys by provider, one horizontal bar each.
pub fn providers(providers: &[(String, i64)]) -> String {
    let title = "Passkeys by provider";
    let mut svg = String::new();
    let drawn = draw_providers(&mut svg, providers);
    finish(svg, drawn, title)
}

fn draw_providers(svg: &mut String, providers: &[(String, i64)]) -> Result<(), String> {
    let shown = &providers[..providers.len().min(8)];
    let rows = i32::try_from(shown.len()).unwrap_or(0).max(1);
    let height = 40 + 30 * u32::try_from(rows).unwrap_or(1);
    let root = SVGBackend::with_string(svg, (WIDTH, height)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let top = shown.iter().map(|(_, n)| *n).max().unwrap_or(0).max(4);
    let mut chart = ChartBuilder::on(&root)
        .margin(12)
        .x_label_area_size(24)
        .y_label_area_size(190)
        .build_cartesian_2d(0..top + top / 8 + 1, (0..rows).into_segmented())
        .map_err(|e| e.to_string())?;
    let name = |segment: &SegmentValue<i32>| match segment {
        SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => usize::try_from(rows - 1 - *i)
            .ok()
            .and_then(|i| shown.get(i))
            .map(|(name, _)| name.clone())
            .unwrap_or_default(),
        SegmentValue::Last => String::new(),
    };
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(shown.len().max(1))
        .y_label_formatter(&name)
        .x_labels(5)
        .label_style(("sans-serif", 12))
        .draw()
        .map_err(|e| e.to_string())?;
    chart
        .draw_series(shown.iter().enumerate().map(|(i, (_, count))| {
            // The first provider at the top.
            let row = rows - 1 - i32::try_from(i).unwrap_or(0);
            let mut bar = Rectangle::new(
                [
                    (0, SegmentValue::Exact(row)),
                    (*count, SegmentValue::Exact(row + 1)),
                ],
                PASSKEY.filled(),
            );
            bar.set_margin(5, 5, 0, 0);
            bar
        }))
        .map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())
}

/// Makes the drawing an accessible, scalable image: `role="img"`, a `<title>`, and a
/// width that follows the page (the viewBox keeps the proportions).
fn finish(svg: String, drawn: Result<(), String>, title: &str) -> String {
    if let Err(err) = drawn {
        tracing::warn!(%err, title, "a chart could not be drawn");
        return String::new();
    }
    let Some(end) = svg.find('>') else {
        return String::new();
    };
    let (open, rest) = svg.split_at(end);
    let open = open
        .replacen(&format!("width=\"{WIDTH}\""), "width=\"100%\"", 1)
        .replacen(" height=\"", " data-height=\"", 1);
    format!(
        "{open} role=\"img\" class=\"chart\"><title>{}</title>{}",
        escape(title),
        &rest[1..]
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(date: &str, passkey: i64, password: i64) -> DailyRow {
        DailyRow {
            date: date.into(),
            passkey_logins: passkey,
            password_logins: password,
            ..DailyRow::default()
        }
    }

    #[test]
    fn a_chart_is_a_titled_scalable_svg() {
        let svg = logins_per_day(&[day("2026-12-01", 3, 1), day("2026-12-02", 5, 0)]);
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.contains("role=\"img\""));
        assert!(svg.contains("<title>Logins per day by method</title>"));
        assert!(svg.contains("viewBox"));
        assert!(svg.contains("width=\"100%\""));
        // The legend names every method; the axis shows the days.
        for text in ["Passkey", "Password", "OIDC", "12-01"] {
            assert!(svg.contains(text), "{text} missing");
        }
        assert!(svg.contains("<polyline") || svg.contains("<path"));
    }

    #[test]
    fn providers_are_labelled_bars() {
        let svg = providers(&[
            ("iCloud Keychain".into(), 7),
            ("Google Password Manager".into(), 3),
        ]);
        assert!(svg.contains("<title>Passkeys by provider</title>"));
        assert!(svg.contains("iCloud Keychain"));
        assert!(svg.contains("Google Password Manager"));
        assert!(svg.matches("<rect").count() >= 3, "{svg}");
    }

    #[test]
    fn empty_data_still_draws() {
        assert!(logins_per_day(&[]).contains("<svg"));
        assert!(providers(&[]).contains("<svg"));
    }
}
