"""Cross-checks loyalty-hq's BG/NBD and Gamma-Gamma fits against the `lifetimes` package.

1. CDNOW (the data of Fader, Hardie & Lee's papers, shipped with lifetimes): our parameters against
   the published ones and lifetimes' fit.
2. Generated summary tables (from the BG/NBD and Gamma-Gamma models, fixed seeds): parameters,
   P(alive) and expected purchases in 52 weeks within 1 % relative of lifetimes.
3. Generated transactions imported into a real head office (`loyalty-hq import`) and reported
   (`loyalty-hq report clv --json`) against lifetimes fitted on its own summary of the same
   transactions: the whole path from history to lifetime value.

Usage: python clv_crosscheck.py PATH/TO/loyalty-hq WORKDIR
"""
import csv
import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import numpy as np
from lifetimes import BetaGeoFitter, GammaGammaFitter
from lifetimes.datasets import load_cdnow_summary_data_with_monetary_value
from lifetimes.generate_data import beta_geometric_nbd_model
from lifetimes.utils import summary_data_from_transaction_data

HQ, WORK = sys.argv[1], sys.argv[2]
TOLERANCE = 0.01
failures = []


def close(name, ours, theirs, tolerance=TOLERANCE, floor=1e-9):
    relative = abs(ours - theirs) / max(abs(theirs), floor)
    status = "ok" if relative <= tolerance else "FAIL"
    if status == "FAIL":
        failures.append(f"{name}: ours {ours!r} vs lifetimes {theirs!r} ({relative:.2%})")
    return relative


def lifetimes_fit(table):
    bg = BetaGeoFitter()
    bg.fit(table["frequency"], table["recency"], table["T"])
    repeat = table[(table["frequency"] > 0) & (table["monetary_value"] > 0)]
    gg = GammaGammaFitter()
    gg.fit(repeat["frequency"], repeat["monetary_value"])
    return bg, gg


def ours_on_summary(table, path, predict=None):
    table[["frequency", "recency", "T", "monetary_value"]].to_csv(path, index=False)
    command = [HQ, "clv", "fit", "--summary", path, "--json"] + (["--predict", str(predict)] if predict else [])
    return json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)


def compare_parameters(label, ours, bg, gg):
    worst = 0.0
    for name in ["r", "alpha", "a", "b"]:
        worst = max(worst, close(f"{label} {name}", ours[name], bg.params_[name]))
    for ours_name, theirs_name in [("p", "p"), ("q", "q"), ("gamma", "v")]:
        worst = max(worst, close(f"{label} {ours_name}", ours[ours_name], gg.params_[theirs_name]))
    print(f"{label}: r={ours['r']:.4f} alpha={ours['alpha']:.4f} a={ours['a']:.4f} b={ours['b']:.4f} "
          f"p={ours['p']:.4f} q={ours['q']:.4f} gamma={ours['gamma']:.4f}; worst parameter difference {worst:.4%}")


# 1. CDNOW against the published fit (Fader, Hardie & Lee 2005: r=0.243, alpha=4.414, a=0.793, b=2.426;
#    Gamma-Gamma p=6.25, q=3.74, gamma=15.44).
cdnow = load_cdnow_summary_data_with_monetary_value()
bg, gg = lifetimes_fit(cdnow)
ours = ours_on_summary(cdnow, f"{WORK}/cdnow.csv")
compare_parameters("CDNOW", ours, bg, gg)
for name, published in [("r", 0.243), ("alpha", 4.414), ("a", 0.793), ("b", 2.426), ("p", 6.25), ("q", 3.74), ("gamma", 15.44)]:
    close(f"CDNOW published {name}", ours[name], published, tolerance=0.002)
close("CDNOW log-likelihood", ours["log_likelihood"], -9582.4, tolerance=1e-5)

# 2. Generated summary tables.
for seed, (r, alpha, a, b), size in [(7, (0.8, 6.0, 0.6, 3.0), 4000), (11, (0.3, 3.0, 1.4, 5.0), 6000)]:
    np.random.seed(seed)
    table = beta_geometric_nbd_model(T=52, r=r, alpha=alpha, a=a, b=b, size=size)
    table = table[["frequency", "recency", "T"]].astype(float).reset_index(drop=True)
    rng = np.random.default_rng(seed)
    nu = rng.gamma(3.0, 1 / 20.0, size=size)  # q = 3, gamma = 20
    values = []
    for x, scale in zip(table["frequency"], nu):
        values.append(float(np.mean(rng.gamma(6.0, 1 / scale, size=int(x)))) if x > 0 else 0.0)  # p = 6
    table["monetary_value"] = np.round(values, 2)
    bg, gg = lifetimes_fit(table)
    ours = ours_on_summary(table, f"{WORK}/generated-{seed}.csv", predict=52)
    compare_parameters(f"generated seed {seed} ({size} members)", ours, bg, gg)
    expected = bg.conditional_expected_number_of_purchases_up_to_time(52, table["frequency"], table["recency"], table["T"])
    alive = bg.conditional_probability_alive(table["frequency"], table["recency"], table["T"])
    worst = 0.0
    for index, row in enumerate(ours["predictions"]):
        worst = max(worst, close(f"seed {seed} row {index} expected purchases", row["expected_purchases"], expected[index]))
        close(f"seed {seed} row {index} p_alive", row["p_alive"], alive[index])
    print(f"  expected purchases in 52 weeks: worst row difference {worst:.4%} over {len(expected)} rows")

# 3. Transactions through import and the clv report.
rng = np.random.default_rng(2024)
start = datetime(2024, 1, 1, tzinfo=timezone.utc)
as_of = datetime(2025, 12, 31, tzinfo=timezone.utc)
rows = []
for member in range(3000):
    card = "29" + f"{member:010d}"
    digits = [int(c) for c in card]
    check = (10 - (sum(digits[-1::-2]) * 3 + sum(digits[-2::-2])) % 10) % 10
    card += str(check)
    rate = rng.gamma(0.9, 1 / 12.0)  # purchases per day while alive
    dropout = rng.beta(0.7, 3.5)
    spend_scale = rng.gamma(4.0, 1 / 60.0)
    day = float(rng.uniform(0, 600))
    receipt = 0
    while day <= (as_of - start).days:
        at = start + timedelta(days=day)
        amount = max(0.01, round(float(rng.gamma(5.0, 1 / spend_scale)), 2))
        rows.append((card, "OLD", f"T{member}-{receipt}", at.strftime("%Y-%m-%dT%H:%M:%SZ"), f"{amount:.2f}"))
        receipt += 1
        if rng.uniform() < dropout:
            break
        day += float(rng.exponential(1 / rate))
with open(f"{WORK}/history.csv", "w", newline="") as handle:
    writer = csv.writer(handle)
    writer.writerow(["card", "store", "receipt", "time", "amount"])
    writer.writerows(rows)
db = f"{WORK}/hq.db"
subprocess.run([HQ, "import", f"{WORK}/history.csv", "--db", db], check=True, capture_output=True)
report = json.loads(subprocess.run(
    [HQ, "report", "clv", "--as-of", "2025-12-31", "--json", "--db", db], check=True, capture_output=True, text=True).stdout)
import pandas as pd
frame = pd.DataFrame(rows, columns=["card", "store", "receipt", "time", "amount"])
frame["date"] = pd.to_datetime(frame["time"]).dt.tz_localize(None).dt.floor("D")
frame["amount"] = frame["amount"].astype(float)
daily = summary_data_from_transaction_data(
    frame, "card", "date", monetary_value_col="amount", observation_period_end="2025-12-31", freq="D")
for column in ["recency", "T"]:
    daily[column] = daily[column] / 7.0
bg, gg = lifetimes_fit(daily)
summary = report["summary"]
compare_parameters("imported transactions (3000 members)", summary, bg, gg)
expected = bg.conditional_expected_number_of_purchases_up_to_time(52, daily["frequency"], daily["recency"], daily["T"])
alive = pd.Series(bg.conditional_probability_alive(daily["frequency"], daily["recency"], daily["T"]), index=daily.index)
worst = 0.0
for member in report["members"]:
    worst = max(worst, close(f"{member['card']} expected sales", member["expected_sales"], expected[member["card"]]))
    close(f"{member['card']} p_alive", member["p_alive"], alive[member["card"]])
if len(report["members"]) != len(daily):
    failures.append(f"report clv lists {len(report['members'])} members, lifetimes {len(daily)}")
print(f"  report clv: {len(report['members'])} members, worst expected-sales difference {worst:.4%}")

if failures:
    print(f"{len(failures)} differences beyond {TOLERANCE:.0%}:")
    for failure in failures[:30]:
        print("  " + failure)
    sys.exit(1)
print("lifetime-value models agree with lifetimes within 1 %")
