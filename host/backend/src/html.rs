//! The read-only HTML overview at `GET /`: server-rendered, every value HTML-escaped, no script.

use serde_json::Value;

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn cell(v: &Value) -> String {
    let text = match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    format!("<td>{}</td>", escape(&text))
}

fn table(out: &mut String, rows: &[Value], columns: &[(&str, &str)], empty: &str) {
    if rows.is_empty() {
        out.push_str(&format!("<p class=\"empty\">{}</p>\n", escape(empty)));
        return;
    }
    out.push_str("<table>\n<tr>");
    for (_, title) in columns {
        out.push_str(&format!("<th>{}</th>", escape(title)));
    }
    out.push_str("</tr>\n");
    for row in rows {
        out.push_str("<tr>");
        for (key, _) in columns {
            out.push_str(&cell(row.get(*key).unwrap_or(&Value::Null)));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
}

fn players_summary(players: &Value) -> Value {
    let Some(list) = players.as_array() else {
        return Value::Null;
    };
    let parts: Vec<String> = list
        .iter()
        .map(|p| {
            format!(
                "{} {}",
                p.get("playerUuid").and_then(Value::as_str).unwrap_or("?"),
                p.get("outcome").and_then(Value::as_str).unwrap_or("?")
            )
        })
        .collect();
    Value::from(parts.join(", "))
}

/// Renders the page from the same JSON documents the API serves.
pub(crate) fn render(
    stats: &Value,
    matches: &[Value],
    results: &[Value],
    snapshots: &[Value],
    reservations: &Value,
) -> String {
    let mut out = String::new();
    out.push_str(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Nexori reference backend</title>\n\
         <style>body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse;margin-bottom:1.5em;font-size:90%}\
         td,th{border:1px solid #bbb;padding:2px 6px;text-align:left;vertical-align:top}th{background:#eee}\
         .empty{color:#777}</style>\n</head>\n<body>\n",
    );
    out.push_str("<h1>Nexori reference backend</h1>\n<p><a href=\"/\">Refresh</a> · JSON: <a href=\"/api/stats\">stats</a>, \
        <a href=\"/api/matches\">matches</a>, <a href=\"/api/matches/open\">open matches</a>, <a href=\"/api/results\">results</a>, \
        <a href=\"/api/snapshots\">snapshots</a>, <a href=\"/api/reservations\">reservations</a>, <a href=\"/api/faults\">faults</a></p>\n");

    out.push_str("<h2>Counters</h2>\n<pre>");
    out.push_str(&escape(
        &serde_json::to_string_pretty(stats).unwrap_or_default(),
    ));
    out.push_str("</pre>\n");

    out.push_str(&format!("<h2>Matches ({})</h2>\n", matches.len()));
    let match_rows: Vec<Value> = matches
        .iter()
        .map(|m| {
            let mut m = m.clone();
            m["ineligibleReasons"] = Value::from(
                m["ineligibleReasons"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_str)
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .unwrap_or_default(),
            );
            m
        })
        .collect();
    table(
        &mut out,
        &match_rows,
        &[
            ("matchKey", "match"),
            ("queueId", "queue"),
            ("arenaId", "arena"),
            ("reportingServerConnectionAddress", "address"),
            ("matchLifecycleStatus", "lifecycle"),
            ("backfillMode", "mode"),
            ("admissionOpen", "open"),
            ("availableAdmissionSlots", "available"),
            ("activeReservationCount", "reserved"),
            ("effectiveAvailableSlots", "effective"),
            ("eligible", "eligible"),
            ("ineligibleReasons", "why not"),
            ("admissionReportingCloseReason", "close reason"),
            ("lastSequence", "sequence"),
            ("stateExpiresAtEpochMs", "expires at"),
        ],
        "No admission snapshots accepted yet.",
    );

    out.push_str(&format!("<h2>Results (latest {})</h2>\n", results.len()));
    let result_rows: Vec<Value> = results
        .iter()
        .map(|r| {
            let mut r = r.clone();
            r["players"] = players_summary(&r["players"]);
            r
        })
        .collect();
    table(
        &mut out,
        &result_rows,
        &[
            ("resultId", "result"),
            ("externalMatchId", "external match"),
            ("localMatchId", "local match"),
            ("rulesEngineId", "rules engine"),
            ("matchRole", "role"),
            ("relatedResultId", "related"),
            ("reason", "reason"),
            ("players", "players"),
            ("duplicateCount", "duplicates"),
            ("receivedAtEpochMs", "received at"),
        ],
        "No results received yet.",
    );

    out.push_str(&format!(
        "<h2>Snapshots (latest {})</h2>\n",
        snapshots.len()
    ));
    let snapshot_rows: Vec<Value> = snapshots
        .iter()
        .map(|s| {
            let mut s = s.clone();
            for key in ["consumedReservationIds", "warnings"] {
                s[key] = Value::from(
                    s[key]
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(Value::as_str)
                                .collect::<Vec<_>>()
                                .join("; ")
                        })
                        .unwrap_or_default(),
                );
            }
            s["primaryChangeReason"] = s["body"]["primaryChangeReason"].clone();
            s
        })
        .collect();
    table(
        &mut out,
        &snapshot_rows,
        &[
            ("stateUpdateId", "state update"),
            ("matchKey", "match"),
            ("admissionStateSequence", "sequence"),
            ("status", "status"),
            ("repeatCount", "repeats"),
            ("primaryChangeReason", "reason"),
            ("consumedReservationIds", "consumed"),
            ("payloadHashCheck", "hash"),
            ("warnings", "warnings"),
            ("receivedAtEpochMs", "received at"),
        ],
        "No admission snapshots received yet.",
    );

    let issued = reservations["issued"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    out.push_str(&format!("<h2>Reservations ({})</h2>\n", issued.len()));
    table(
        &mut out,
        &issued,
        &[
            ("reservationId", "reservation"),
            ("matchKey", "match"),
            ("status", "status"),
            ("expiresAtEpochMs", "expires at"),
            ("consumedByStateUpdateId", "consumed by"),
        ],
        "No reservations issued (POST /admin/reservations).",
    );
    out.push_str("</body>\n</html>\n");
    out
}
