//! The demonstration's summary (terminal) and `report.html`: one self-contained page, its
//! data embedded as JSON and its charts drawn as SVG by a small inline script — no external
//! assets, no CDN.

use std::collections::{BTreeSet, HashMap};

use custos_detect::{Alert, OfficerRisk};
use custos_sim::{Params, World};
use serde_json::{json, Value};

use super::agency::day_of;
use super::{serious, Replay};

/// One planted insider and how Custos did.
pub struct Caught {
    pub officer: String,
    pub scenario: String,
    pub onset: i64,
    /// First alert of high severity or above: time, and every detector that fired by then.
    pub flagged: Option<(i64, Vec<String>)>,
    /// Rank among the leak's suspects (1 = first), if named.
    pub leak_rank: Option<usize>,
}

/// What the terminal summary and the report say.
pub struct Summary {
    pub params: Params,
    pub caught: Vec<Caught>,
    pub false_alerts: usize,
    pub false_officers: usize,
    pub officer_days: u64,
    pub requests: u64,
    pub seconds: f64,
    pub refused: u64,
    pub reasons: Vec<(String, u64)>,
    pub break_glass: u64,
    pub leak_posts: usize,
    pub matched: u64,
    pub suspects: Vec<(String, f64, u64)>,
    pub coalition: Option<(Vec<String>, u64)>,
}

fn hours(a: i64, b: i64) -> f64 {
    (b - a) as f64 / 3600.0
}

fn when(t: i64) -> String {
    let local = t + 6 * 3600;
    format!("day {} {:02}:{:02}", day_of(t), local.rem_euclid(86_400) / 3600, local.rem_euclid(3600) / 60)
}

impl Summary {
    pub fn new(world: &World, alerts: &[Alert], finding: &Value, replay: &Replay, params: Params) -> Self {
        let suspects: Vec<(String, f64, u64)> = finding["suspects"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|s| {
                        (
                            s["officer"].as_str().unwrap_or_default().to_string(),
                            s["guilt"].as_f64().unwrap_or(0.0),
                            s["covered"].as_u64().unwrap_or(0),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let coalition = finding["coalitions"].as_array().and_then(|c| c.first()).map(|c| {
            (
                c["officers"]
                    .as_array()
                    .map(|o| o.iter().filter_map(|x| x.as_str().map(String::from)).collect())
                    .unwrap_or_default(),
                c["covered"].as_u64().unwrap_or(0),
            )
        });
        let mut caught: Vec<Caught> = world
            .insiders
            .iter()
            .map(|i| {
                let first = alerts
                    .iter()
                    .filter(|a| a.officer == i.officer && serious(a.severity))
                    .map(|a| a.unix)
                    .min();
                let flagged = first.map(|t| {
                    let ds: BTreeSet<String> = alerts
                        .iter()
                        .filter(|a| a.officer == i.officer && a.unix <= t)
                        .map(|a| a.detector.clone())
                        .collect();
                    (t, ds.into_iter().collect())
                });
                Caught {
                    officer: i.officer.clone(),
                    scenario: i.scenario.to_string(),
                    onset: i.onset,
                    flagged,
                    leak_rank: suspects.iter().position(|s| s.0 == i.officer).map(|p| p + 1),
                }
            })
            .collect();
        caught.sort_by_key(|c| (c.scenario != "seed_case_pair", c.onset));
        let insiders: BTreeSet<&str> = world.insiders.iter().map(|i| i.officer.as_str()).collect();
        let false_alerts: Vec<&Alert> =
            alerts.iter().filter(|a| serious(a.severity) && !insiders.contains(a.officer.as_str())).collect();
        let false_officers = false_alerts.iter().map(|a| a.officer.as_str()).collect::<BTreeSet<_>>().len();
        let refused = replay.statuses.iter().filter(|(s, _)| **s == 403 || **s == 429).map(|(_, n)| n).sum();
        let mut reasons: Vec<(String, u64)> = replay.reasons.iter().map(|(k, v)| (k.clone(), *v)).collect();
        reasons.sort_by_key(|r| std::cmp::Reverse(r.1));
        Summary {
            params,
            caught,
            false_alerts: false_alerts.len(),
            false_officers,
            officer_days: params.officers as u64 * u64::from(params.days),
            requests: replay.requests,
            seconds: replay.seconds,
            refused,
            reasons,
            break_glass: replay.break_glass,
            leak_posts: replay.sold.len(),
            matched: finding["matched_subjects"].as_u64().unwrap_or(0),
            suspects,
            coalition,
        }
    }

    pub fn print(&self) {
        println!("\n== Guarded access ==");
        println!(
            "{} requests through the gateway in {:.1}s ({:.0}/s), every one audited before its answer; {} refused",
            self.requests,
            self.seconds,
            self.requests as f64 / self.seconds.max(1e-9),
            self.refused
        );
        let top: Vec<String> = self.reasons.iter().take(5).map(|(r, n)| format!("{r} {n}")).collect();
        println!("refusals by reason: {}", top.join(", "));
        println!("break-glass grants opened (each awaits a supervisor's review): {}", self.break_glass);
        println!("\n== Insiders planted, and when Custos flagged them (live, as the requests came in) ==");
        for c in &self.caught {
            match &c.flagged {
                Some((t, ds)) => println!(
                    "  {:<10} {:<18} started {}  flagged {} (+{:.0} h) by {}",
                    c.officer,
                    c.scenario,
                    when(c.onset),
                    when(*t),
                    hours(c.onset, *t).max(0.0),
                    ds.join(", ")
                ),
                None => println!(
                    "  {:<10} {:<18} started {}  not flagged at high severity",
                    c.officer,
                    c.scenario,
                    when(c.onset)
                ),
            }
        }
        println!(
            "false alerts (high or critical, on officers who did nothing wrong): {} on {} officers = {:.2} per 1,000 officer-days",
            self.false_alerts,
            self.false_officers,
            self.false_alerts as f64 * 1000.0 / self.officer_days.max(1) as f64
        );
        println!("\n== The leak ==");
        println!(
            "the sellers received {} records they sold; the channel export matched {} subjects in the log",
            self.leak_posts, self.matched
        );
        for (i, (o, g, n)) in self.suspects.iter().take(5).enumerate() {
            let truth = self
                .caught
                .iter()
                .find(|c| &c.officer == o)
                .map_or(String::new(), |c| format!("  [planted: {}]", c.scenario));
            println!("  {}. {o:<10} guilt {g:.3}, pulled {n} of the leaked subjects before they were posted{truth}", i + 1);
        }
        if let Some((os, n)) = &self.coalition {
            println!("most likely coalition: {} (explains {n} subjects)", os.join(" + "));
        }
    }
}

/// The report page.
pub fn html(
    s: &Summary,
    world: &World,
    replay: &Replay,
    alerts: &[Alert],
    risk: &[OfficerRisk],
    finding: &Value,
) -> String {
    let insiders: HashMap<&str, &str> =
        world.insiders.iter().map(|i| (i.officer.as_str(), i.scenario)).collect();
    let mut ranked: Vec<&OfficerRisk> = risk.iter().filter(|r| r.score > 0.0).collect();
    ranked.sort_by(|a, b| b.score.total_cmp(&a.score));
    // Officers to chart: the planted insiders, then the highest risks, eight at most.
    let mut chart: Vec<String> = s.caught.iter().map(|c| c.officer.clone()).collect();
    for r in &ranked {
        if chart.len() >= 8 {
            break;
        }
        if !chart.contains(&r.officer) {
            chart.push(r.officer.clone());
        }
    }
    chart.truncate(8.max(s.caught.len()));
    let volume: Vec<Value> = chart
        .iter()
        .map(|o| {
            let days = replay.per_officer_day.get(o).cloned().unwrap_or_default();
            let marks: Vec<Value> = alerts
                .iter()
                .filter(|a| &a.officer == o)
                .map(|a| json!({"day": day_of(a.unix), "severity": format!("{:?}", a.severity).to_lowercase(), "detector": a.detector}))
                .collect();
            json!({
                "officer": o,
                "planted": insiders.get(o.as_str()),
                "allowed": days.iter().map(|d| d.0).collect::<Vec<_>>(),
                "refused": days.iter().map(|d| d.1).collect::<Vec<_>>(),
                "alerts": marks,
            })
        })
        .collect();
    let ranking: Vec<Value> = ranked
        .iter()
        .take(20)
        .map(|r| {
            json!({"officer": r.officer, "unit": r.unit, "score": (r.score * 10.0).round() / 10.0,
            "planted": insiders.get(r.officer.as_str()),
            "reasons": r.reasons.iter().take(3).map(|x| x.code.clone()).collect::<Vec<_>>()})
        })
        .collect();
    let suspects: Vec<Value> = s
        .suspects
        .iter()
        .take(10)
        .map(|(o, g, n)| json!({"officer": o, "guilt": g, "covered": n, "planted": insiders.get(o.as_str())}))
        .collect();
    let explained: Vec<Value> =
        replay.per_day.iter().map(|(c, r, d)| json!({"case": c, "routine": r, "refused": d})).collect();
    let caught: Vec<Value> = s
        .caught
        .iter()
        .map(|c| {
            json!({"officer": c.officer, "scenario": c.scenario, "onset": when(c.onset),
                "flagged": c.flagged.as_ref().map(|(t, _)| when(*t)),
                "after_hours": c.flagged.as_ref().map(|(t, _)| (hours(c.onset, *t).max(0.0)).round()),
                "signals": c.flagged.as_ref().map(|(_, d)| d.join(", ")),
                "leak_rank": c.leak_rank})
        })
        .collect();
    let data = json!({
        "params": {"citizens": s.params.citizens, "officers": s.params.officers, "days": s.params.days, "seed": s.params.seed},
        "requests": s.requests, "refused": s.refused, "break_glass": s.break_glass,
        "false_alerts": s.false_alerts,
        "false_per_1000": (s.false_alerts as f64 * 1000.0 / s.officer_days.max(1) as f64 * 100.0).round() / 100.0,
        "caught": caught, "volume": volume, "ranking": ranking, "suspects": suspects,
        "coalition": s.coalition.as_ref().map(|(o, n)| json!({"officers": o, "covered": n})),
        "matched": s.matched, "explained": explained,
        "marks": finding.get("marks"),
    });
    let data = data.to_string().replace("</", "<\\/");
    PAGE.replace("/*DATA*/null", &data)
}

const PAGE: &str = r##"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Custos demonstration report</title>
<style>
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d232b;background:#f5f6f8}
header{background:#17324d;color:#fff;padding:18px 28px}header h1{margin:0;font-size:22px}header p{margin:4px 0 0;opacity:.85}
main{max-width:1180px;margin:0 auto;padding:18px 28px}
section{background:#fff;border:1px solid #dde1e6;border-radius:8px;padding:16px 20px;margin:0 0 18px}
h2{font-size:18px;margin:0 0 10px}table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #eceff2;font-size:14px}
th{background:#f0f2f5}.kpis{display:flex;gap:14px;flex-wrap:wrap}.kpi{flex:1;min-width:150px;background:#f0f4f8;border-radius:6px;padding:10px 12px}
.kpi b{display:block;font-size:22px}.small{color:#5b6570;font-size:13px}svg text{font:11px system-ui,sans-serif;fill:#333}
.planted{color:#b3261e;font-weight:600}.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(360px,1fr));gap:12px}
</style></head><body>
<header><h1>Custos — demonstration report</h1><p id="sub">An agency in a box, attacked the way the seed case was: caught live, traced from the leak, with a log nobody can rewrite.</p></header>
<main>
<section aria-labelledby="k"><h2 id="k">At a glance</h2><div class="kpis" id="kpis"></div></section>
<section aria-labelledby="c"><h2 id="c">Planted insiders and when they were flagged</h2><table id="caught"><thead><tr><th>Officer</th><th>Scenario</th><th>Abuse started</th><th>First high alert</th><th>Hours</th><th>Signals</th><th>Leak rank</th></tr></thead><tbody></tbody></table></section>
<section aria-labelledby="v"><h2 id="v">Access volume per day, suspicious officers</h2><p class="small">Bars: requests answered (blue) and refused (orange) per day. Dots: alerts (yellow medium, red high, black critical).</p><div class="grid chart" id="volume"></div></section>
<section aria-labelledby="r"><h2 id="r">Risk ranking</h2><p class="small">Risk = sum of −log10 surprises of each detector; planted insiders in red.</p><div class="chart" id="ranking"></div></section>
<section aria-labelledby="l"><h2 id="l">Leak attribution</h2><p class="small" id="leaktext"></p><div class="chart" id="leak"></div></section>
<section aria-labelledby="e"><h2 id="e">Explained access</h2><p class="small">Per day: requests answered under a case and warrant (green), answered as routine checks without a case (grey), refused (orange); the line is the explained share.</p><div class="chart" id="explained"></div></section>
</main>
<script id="data" type="application/json">/*DATA*/null</script>
<script>
"use strict";
const D = JSON.parse(document.getElementById("data").textContent);
const NS = "http://www.w3.org/2000/svg";
function el(tag, attrs, parent, text){const e=document.createElementNS(NS,tag);for(const k in attrs)e.setAttribute(k,attrs[k]);if(text!==undefined)e.textContent=text;if(parent)parent.appendChild(e);return e;}
function svg(host,w,h,label){const s=el("svg",{viewBox:`0 0 ${w} ${h}`,width:"100%",role:"img","aria-label":label});host.appendChild(s);return s;}
function done(host){host.setAttribute("data-drawn","true");}
function esc(t){const d=document.createElement("div");d.textContent=t==null?"":String(t);return d.innerHTML;}
document.getElementById("sub").textContent += ` ${D.params.citizens.toLocaleString()} citizens, ${D.params.officers} officers, ${D.params.days} days, seed ${D.params.seed}.`;
const k = document.getElementById("kpis");
for (const [v,l] of [[D.requests.toLocaleString(),"requests, all audited"],[D.refused.toLocaleString(),"refused by policy"],[D.caught.filter(c=>c.flagged).length+" / "+D.caught.length,"insiders flagged"],[D.false_per_1000,"false alerts per 1,000 officer-days"],[D.matched,"leaked subjects matched"],[D.break_glass,"break-glass grants"]]) k.insertAdjacentHTML("beforeend",`<div class="kpi"><b>${esc(v)}</b>${esc(l)}</div>`);
const tb = document.querySelector("#caught tbody");
for (const c of D.caught) tb.insertAdjacentHTML("beforeend",`<tr><td class="planted">${esc(c.officer)}</td><td>${esc(c.scenario)}</td><td>${esc(c.onset)}</td><td>${esc(c.flagged||"not flagged")}</td><td>${esc(c.after_hours)}</td><td>${esc(c.signals)}</td><td>${esc(c.leak_rank||"—")}</td></tr>`);
(function(){const host=document.getElementById("volume");
 for(const o of D.volume){const box=document.createElement("div");host.appendChild(box);
  box.insertAdjacentHTML("beforeend",`<div><b>${esc(o.officer)}</b> ${o.planted?`<span class="planted">planted: ${esc(o.planted)}</span>`:""}</div>`);
  const n=o.allowed.length,W=360,H=120,m=22,max=Math.max(1,...o.allowed.map((a,i)=>a+o.refused[i]));const s=svg(box,W,H,`requests per day by ${o.officer}`);
  const bw=(W-m)/n;el("line",{x1:m,y1:H-m,x2:W,y2:H-m,stroke:"#999"},s);el("text",{x:0,y:12},s,String(max));el("text",{x:0,y:H-m},s,"0");
  for(let i=0;i<n;i++){const a=o.allowed[i],r=o.refused[i],ha=(H-2*m)*a/max,hr=(H-2*m)*r/max;
   if(a)el("rect",{x:m+i*bw,y:H-m-ha,width:Math.max(1,bw-1),height:ha,fill:"#3b73b9"},s);
   if(r)el("rect",{x:m+i*bw,y:H-m-ha-hr,width:Math.max(1,bw-1),height:hr,fill:"#e8871e"},s);}
  const col={medium:"#f2c230",high:"#d93025",critical:"#111"};
  for(const a of o.alerts){el("circle",{cx:m+(a.day+.5)*bw,cy:m-8,r:4,fill:col[a.severity]||"#999"},s).appendChild(el("title",{},null,`${a.detector} (${a.severity}) day ${a.day}`));}
  el("text",{x:m,y:H-6},s,"day 0");el("text",{x:W-40,y:H-6},s,`day ${n-1}`);}
 done(host);})();
(function(){const host=document.getElementById("ranking"),R=D.ranking,W=900,row=20,H=row*R.length+10,max=Math.max(1,...R.map(r=>r.score));const s=svg(host,W,H,"risk ranking");
 R.forEach((r,i)=>{const y=5+i*row,w=(W-560)*r.score/max;el("text",{x:0,y:y+13},s,`${r.officer} (${r.unit})`);
  el("rect",{x:150,y:y+2,width:Math.max(1,w),height:row-6,fill:r.planted?"#d93025":"#7a8794"},s);
  el("text",{x:155+w,y:y+13},s,`${r.score}  ${r.reasons.join(", ")}${r.planted?"  [planted: "+r.planted+"]":""}`);});done(host);})();
(function(){const host=document.getElementById("leak"),S=D.suspects,W=900,row=22,H=row*S.length+10,max=Math.max(1e-9,...S.map(x=>x.guilt));const s=svg(host,W,H,"leak attribution");
 document.getElementById("leaktext").textContent=`The channel export matched ${D.matched} subjects in the audit log. Guilt: probability each account is a source, given who pulled each posted record before it was posted.`+(D.coalition?` Most likely coalition: ${D.coalition.officers.join(" + ")} (explains ${D.coalition.covered}).`:"");
 S.forEach((x,i)=>{const y=5+i*row,w=(W-560)*x.guilt/max;el("text",{x:0,y:y+14},s,x.officer);el("rect",{x:110,y:y+3,width:Math.max(1,w),height:row-7,fill:x.planted?"#d93025":"#7a8794"},s);
  el("text",{x:115+w,y:y+14},s,`${x.guilt.toFixed(3)} · ${x.covered} leaked subjects pulled${x.planted?"  [planted: "+x.planted+"]":""}`);});done(host);})();
(function(){const host=document.getElementById("explained"),E=D.explained,W=900,H=220,m=30,n=E.length,max=Math.max(1,...E.map(e=>e.case+e.routine+e.refused));const s=svg(host,W,H,"explained access per day");
 const bw=(W-2*m)/n;let pts=[];el("line",{x1:m,y1:H-m,x2:W-m,y2:H-m,stroke:"#999"},s);el("text",{x:0,y:m},s,String(max));
 E.forEach((e,i)=>{let y=H-m;for(const [v,c] of [[e.case,"#2e8b57"],[e.routine,"#9aa3ad"],[e.refused,"#e8871e"]]){const h=(H-2*m)*v/max;if(v){el("rect",{x:m+i*bw,y:y-h,width:Math.max(1,bw-1),height:h,fill:c},s);}y-=h;}
  const t=e.case+e.routine;if(t)pts.push(`${m+(i+.5)*bw},${m+(H-2*m)*(1-e.case/t)}`);});
 if(pts.length)el("polyline",{points:pts.join(" "),fill:"none",stroke:"#17324d","stroke-width":2},s);el("text",{x:W-m-60,y:m-8},s,"share explained");done(host);})();
</script></body></html>
"##;
