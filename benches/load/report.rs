//! The results as Markdown, and the block of docs/performance.md they replace.

use std::fmt::Write as _;

use crate::measure::Figures;

/// The generated block lies between these lines; the rest of the file is prose.
pub const BEGIN: &str = "<!-- load-results:begin (written by scripts/bench-load.sh) -->";
pub const END: &str = "<!-- load-results:end -->";

/// The HTTP requests of a passkey login as the browser makes them (login token, init,
/// start, finish, the app session).
const PASSKEY_LOGIN_REQUESTS: f64 = 5.0;
/// The database round trips a passkey login cannot do without, whatever the code: connect
/// token written and spent; the browser's client and the process written, and the process
/// read at start and at finish; the user with their passkeys read; the challenge written and
/// taken; the counter's compare-and-set; signed data written and spent; the account read;
/// the session written; at least one audit-log write.
const PASSKEY_LOGIN_ROUND_TRIPS: f64 = 15.0;

/// One row of the table.
pub struct Row {
    pub setup: String,
    pub operation: &'static str,
    pub concurrency: usize,
    pub figures: Figures,
}

/// Everything one run of the standard set measured.
pub struct Results {
    pub machine: String,
    pub versions: String,
    pub date: String,
    pub repeats: usize,
    pub rows: Vec<Row>,
    /// Bare webauthn-rs `finish_passkey_authentication`, µs (median).
    pub bare_verification_us: f64,
    /// Spawn to the first `200` on `/healthz`, fresh SQLite database (median), ms.
    pub start_ms: f64,
}

impl Results {
    fn find(&self, setup: &str, operation: &str, concurrency: usize) -> Option<&Figures> {
        self.rows
            .iter()
            .find(|r| r.setup == setup && r.operation == operation && r.concurrency == concurrency)
            .map(|r| &r.figures)
    }

    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{BEGIN}");
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "Measured {} on {}; {}. Every figure is the median of {} runs.",
            self.date, self.machine, self.versions, self.repeats
        );
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "| setup | operation | concurrency | per second | p50 ms | p95 ms | p99 ms | server CPU ms/op | errors |"
        );
        let _ = writeln!(out, "|---|---|---:|---:|---:|---:|---:|---:|---:|");
        for row in &self.rows {
            let f = &row.figures;
            let _ = writeln!(
                out,
                "| {} | {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {} |",
                row.setup,
                row.operation,
                row.concurrency,
                f.per_second,
                f.p50_ms,
                f.p95_ms,
                f.p99_ms,
                f.cpu_ms_per_op,
                f.errors
            );
        }
        let _ = writeln!(out);
        let _ = writeln!(out, "Ratios, from the same run:");
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "- bare webauthn-rs verification (`finish_passkey_authentication`, one core): {:.0} µs",
            self.bare_verification_us
        );
        for setup in ["SQLite", "PostgreSQL", "PostgreSQL ×2"] {
            let cpus: Vec<String> = [1, 16, 64]
                .iter()
                .filter_map(|c| self.find(setup, "passkey login", *c))
                .map(|f| {
                    format!(
                        "{:.1}×",
                        f.cpu_ms_per_op * 1000.0 / self.bare_verification_us
                    )
                })
                .collect();
            if !cpus.is_empty() {
                let _ = writeln!(
                    out,
                    "- {setup}: server CPU of a full passkey login ÷ bare verification at concurrency 1 / 16 / 64: {}",
                    cpus.join(" / ")
                );
            }
        }
        for setup in ["SQLite", "PostgreSQL"] {
            let _ = self.write_floor(&mut out, setup);
        }
        for concurrency in [1, 16, 64] {
            let ours = self.find("PostgreSQL", "passkey login", concurrency);
            let peer = self.find("PostgreSQL", "passkey login (peer)", concurrency);
            if let (Some(ours), Some(peer)) = (ours, peer) {
                let _ = writeln!(
                    out,
                    "- PostgreSQL, concurrency {concurrency}: Latchkey ÷ peer passkey logins per second {:.2}, server CPU per login {:.2}",
                    ours.per_second / peer.per_second.max(f64::MIN_POSITIVE),
                    ours.cpu_ms_per_op / peer.cpu_ms_per_op.max(f64::MIN_POSITIVE)
                );
            }
        }
        let _ = writeln!(
            out,
            "- start to first answer (fresh SQLite database, migrations included): {:.0} ms",
            self.start_ms
        );
        let _ = writeln!(out);
        let _ = writeln!(out, "{END}");
        out
    }

    /// The floor of a passkey login built from parts measured in this run, at concurrency
    /// 16 (at 1 an idle server's wake-ups dominate): a request through the server
    /// (`GET /healthz`), a database round trip (half of what `GET /readyz`, with two, adds),
    /// and the bare verification. Signing the passkey data is left out, so it is a floor.
    fn write_floor(&self, out: &mut String, setup: &str) -> Option<()> {
        let request = self.find(setup, "GET /healthz", 16)?.cpu_ms_per_op;
        let ready = self.find(setup, "GET /readyz", 16)?.cpu_ms_per_op;
        let login = self.find(setup, "passkey login", 16)?.cpu_ms_per_op;
        let round_trip = ((ready - request) / 2.0).max(0.0);
        let verification = self.bare_verification_us / 1000.0;
        let floor = PASSKEY_LOGIN_REQUESTS * request
            + PASSKEY_LOGIN_ROUND_TRIPS * round_trip
            + verification;
        writeln!(
            out,
            "- {setup}, concurrency 16, the parts: a request {request:.3} ms, a database round trip {round_trip:.3} ms; a passkey login's floor ({PASSKEY_LOGIN_REQUESTS} requests, {PASSKEY_LOGIN_ROUND_TRIPS} round trips, the verification) {floor:.2} ms = {:.1}× bare verification; measured {login:.2} ms = {:.2}× that floor",
            floor / verification,
            login / floor
        )
        .ok()
    }
}

/// `text` with the generated block replaced by `block` (appended when there is none).
pub fn replace_block(text: &str, block: &str) -> String {
    match (text.find(BEGIN), text.find(END)) {
        (Some(begin), Some(end)) if end > begin => {
            format!(
                "{}{}{}",
                &text[..begin],
                block.trim_end(),
                &text[end + END.len()..]
            )
        }
        _ => format!("{}\n{}", text.trim_end(), block),
    }
}
