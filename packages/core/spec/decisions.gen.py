#!/usr/bin/env python3
"""Writes decisions.json and bucketing.json: language-neutral decision cases and bucketing vectors.

Expected answers are written by hand below, except where an answer depends on the hash: those are
computed here with an independent Python implementation of the documented bucketing algorithm
(decisions/bucketing.ts), so the TypeScript engine is checked against a second implementation.
Run: python3 packages/core/spec/decisions.gen.py
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
NOW = "2026-06-15T12:00:00.000Z"  # a Monday


def fnv1a32(text):
    h = 0x811C9DC5
    for b in text.encode("utf-8"):
        h ^= b
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def hash_unit(seed, ident):
    return fnv1a32(str(fnv1a32(seed + ":" + ident))) / 4294967296


def bucket_of(seed, ident):
    return int(hash_unit(seed, ident) * 10000)


def allocate(seed, ident, coverage, weights):
    u = hash_unit(seed, ident)
    total = sum(max(0, w) for w in weights)
    start = 0.0
    for i, w in enumerate(weights):
        share = max(0, w) / total if total > 0 else 0
        if start <= u < start + coverage * share:
            return i
        start += share
    return None


def in_holdout(seed, ident, percent):
    return hash_unit(seed, ident) * 100 < percent


def in_layer(layer, ident, lo, hi):
    u = hash_unit("layer:" + layer, ident)
    return lo <= u < hi


cases = []


def case(name, config, request, expected, profile=None, now=NOW):
    c = {"name": name, "now": now, "config": config, "request": request, "expected": expected}
    if profile is not None:
        c["profile"] = profile
    cases.append(c)


def exp(id, slots_per_variant, **kw):
    """An experience; slots_per_variant: list of (key, {slot: content})."""
    e = {"id": id, "name": id, "variants": [{"key": k, "slots": s} for k, s in slots_per_variant]}
    e.update(kw)
    return e


def content(v):
    return {"content": v}


def served(experience, variant, reason, payload):
    return {"experience": experience, "variant": variant, "reason": reason, "content": payload}


def c_payload(v):
    return {"type": "content", "content": v}


NONE = {"experience": None, "variant": None, "content": None, "reason": "no_experience"}
UNKNOWN = {"experience": None, "variant": None, "content": None, "reason": "unknown_slot"}

hero = lambda title: [("default", {"hero": content({"title": title})})]

# ---------------------------------------------------------------- pages and sites
page_cases = [
    ("/products/**", "/products/shoes/running", True),
    ("/products/**", "/products", False),
    ("/products/**", "/products/", True),
    ("/products/*", "/products/shoes", True),
    ("/products/*", "/products/shoes/running", False),
    ("/blog/?", "/blog/a", True),
    ("/blog/?", "/blog/ab", False),
    ("/", "/", True),
    ("/", "/home", False),
    ("**", "/anything/at/all", True),
    ("/sale*", "/sale-summer", True),
    ("/sale*", "/sale/summer", False),
    ("*.html", "/index.html", False),  # patterns are anchored and * never crosses "/"
    ("/*.html", "/index.html", True),
    ("/p/*/reviews", "/p/42/reviews", True),
    ("/p/*/reviews", "/p/42/43/reviews", False),
]
for i, (pattern, path, hit) in enumerate(page_cases):
    case(
        f"page glob {pattern!r} against {path!r}",
        {"experiences": [exp(f"pg-{i}", hero("match"), targeting={"pages": [pattern]})]},
        {"anonymousId": f"page-{i}", "context": {"url": f"https://shop.example.com{path}?utm_source=x#top"}, "slots": ["hero"]},
        {"hero": served(f"pg-{i}", "default", "targeted", c_payload({"title": "match"})) if hit else NONE},
    )

regex_cases = [
    ("^/p/\\d+$", "/p/123", True),
    ("^/p/\\d+$", "/p/12a", False),
    ("^/(en|fr)/sale", "/fr/sale/shoes", True),
    ("^/(en|fr)/sale", "/de/sale", False),
]
for i, (rx, path, hit) in enumerate(regex_cases):
    case(
        f"page regex {rx} against {path}",
        {"experiences": [exp(f"rx-{i}", hero("rx"), targeting={"pages": [{"regex": rx}]})]},
        {"anonymousId": f"regex-{i}", "context": {"path": path}, "slots": ["hero"]},
        {"hero": served(f"rx-{i}", "default", "targeted", c_payload({"title": "rx"})) if hit else NONE},
    )

site_cases = [
    (["*.example.com"], "https://shop.example.com/", True),
    (["*.example.com"], "https://example.com/", False),
    (["example.com"], "https://EXAMPLE.com:8443/x", True),
    (["shop.example.com", "outlet.example.com"], "https://outlet.example.com/a", True),
    (["shop.example.com"], "https://user:pw@shop.example.com/a", True),
    (["shop.example.com"], "https://blog.example.com/a", False),
]
for i, (sites, url, hit) in enumerate(site_cases):
    case(
        f"site {sites} against {url}",
        {"experiences": [exp(f"site-{i}", hero("site"), targeting={"sites": sites})]},
        {"anonymousId": f"site-{i}", "context": {"url": url}, "slots": ["hero"]},
        {"hero": served(f"site-{i}", "default", "targeted", c_payload({"title": "site"})) if hit else NONE},
    )

case(
    "explicit site and path win over the url",
    {"experiences": [exp("sp", hero("sp"), targeting={"sites": ["b.example.com"], "pages": ["/two"]})]},
    {"anonymousId": "sp-1", "context": {"url": "https://a.example.com/one", "site": "b.example.com", "path": "/two"}, "slots": ["hero"]},
    {"hero": served("sp", "default", "targeted", c_payload({"title": "sp"}))},
)
case(
    "a page pattern with no page in the request does not match",
    {"experiences": [exp("np", hero("np"), targeting={"pages": ["/**"]})]},
    {"anonymousId": "np-1", "context": {}, "slots": ["hero"]},
    {"hero": NONE},
)
case(
    "an experience with no targeting serves every page",
    {"experiences": [exp("everywhere", hero("all"))]},
    {"anonymousId": "ev-1", "context": {"url": "https://any.site/any/path"}, "slots": ["hero"]},
    {"hero": served("everywhere", "default", "targeted", c_payload({"title": "all"}))},
)
case(
    "excluded pages are not served even when the pattern matches",
    {"experiences": [exp("ex", hero("ex"), targeting={"pages": ["/products/**"], "excludePages": ["/products/gift-cards/**"]})]},
    {"anonymousId": "ex-1", "context": {"path": "/products/gift-cards/50"}, "slots": ["hero"]},
    {"hero": NONE},
)
case(
    "excluded pages leave the other pages served",
    {"experiences": [exp("ex2", hero("ex"), targeting={"pages": ["/products/**"], "excludePages": ["/products/gift-cards/**"]})]},
    {"anonymousId": "ex-2", "context": {"path": "/products/shoes"}, "slots": ["hero"]},
    {"hero": served("ex2", "default", "targeted", c_payload({"title": "ex"}))},
)
case(
    "one experience serves many pages (a list of patterns)",
    {"experiences": [exp("many", hero("many"), targeting={"pages": [f"/landing-{n}" for n in range(300)]})]},
    {"anonymousId": "many-1", "context": {"path": "/landing-299"}, "slots": ["hero"]},
    {"hero": served("many", "default", "targeted", c_payload({"title": "many"}))},
)

# ---------------------------------------------------------------- priority and conflicts
two = lambda pa, pb, ida="alpha", idb="beta": {
    "experiences": [exp(ida, hero(ida), priority=pa), exp(idb, hero(idb), priority=pb)]
}
case("higher priority wins the slot", two(1, 5), {"anonymousId": "pr-1", "context": {}, "slots": ["hero"]}, {"hero": served("beta", "default", "targeted", c_payload({"title": "beta"}))})
case("higher priority wins the slot (reversed)", two(9, 5), {"anonymousId": "pr-2", "context": {}, "slots": ["hero"]}, {"hero": served("alpha", "default", "targeted", c_payload({"title": "alpha"}))})
case("equal priorities: the smaller id wins", two(3, 3, "zeta", "eta"), {"anonymousId": "pr-3", "context": {}, "slots": ["hero"]}, {"hero": served("eta", "default", "targeted", c_payload({"title": "eta"}))})
case("negative priorities order too", two(-5, -1), {"anonymousId": "pr-4", "context": {}, "slots": ["hero"]}, {"hero": served("beta", "default", "targeted", c_payload({"title": "beta"}))})
case(
    "an ineligible higher-priority experience yields to the next",
    {"experiences": [exp("top", hero("top"), priority=10, targeting={"pages": ["/checkout/**"]}), exp("next", hero("next"), priority=1)]},
    {"anonymousId": "pr-5", "context": {"path": "/home"}, "slots": ["hero"]},
    {"hero": served("next", "default", "targeted", c_payload({"title": "next"}))},
)
case(
    "different slots are decided independently",
    {"experiences": [exp("h", hero("h")), exp("b", [("default", {"banner": content("B")})])]},
    {"anonymousId": "pr-6", "context": {}, "slots": ["hero", "banner"]},
    {"hero": served("h", "default", "targeted", c_payload({"title": "h"})), "banner": served("b", "default", "targeted", c_payload("B"))},
)
case(
    "a slot no experience defines is unknown",
    {"experiences": [exp("h2", hero("h"))]},
    {"anonymousId": "pr-7", "context": {}, "slots": ["footer"]},
    {"footer": UNKNOWN},
)
case(
    "one experience fills several slots with one variant",
    {"experiences": [exp("multi", [("default", {"hero": content(1), "banner": content(2), "footer": content(3)})])]},
    {"anonymousId": "pr-8", "context": {}, "slots": ["hero", "footer"]},
    {"hero": served("multi", "default", "targeted", c_payload(1)), "footer": served("multi", "default", "targeted", c_payload(3))},
)

# ---------------------------------------------------------------- schedule and status
sched = lambda start=None, end=None: {k: v for k, v in (("start", start), ("end", end)) if v}
for i, (s, now, hit) in enumerate([
    (sched("2026-06-15T12:00:00.000Z", None), NOW, True),
    (sched("2026-06-15T12:00:00.001Z", None), NOW, False),
    (sched(None, "2026-06-15T12:00:00.000Z"), NOW, False),
    (sched(None, "2026-06-15T12:00:00.001Z"), NOW, True),
    (sched("2026-06-01T00:00:00.000Z", "2026-07-01T00:00:00.000Z"), NOW, True),
    (sched("2026-07-01T00:00:00.000Z", "2026-08-01T00:00:00.000Z"), NOW, False),
]):
    case(
        f"schedule {s} at {now} ({'in' if hit else 'out'})",
        {"experiences": [exp(f"sch-{i}", hero("s"), schedule=s)]},
        {"anonymousId": f"sch-{i}", "context": {}, "slots": ["hero"]},
        {"hero": served(f"sch-{i}", "default", "targeted", c_payload({"title": "s"})) if hit else NONE},
        now=now,
    )
for status in ["paused", "draft"]:
    case(
        f"a {status} experience is not served",
        {"experiences": [exp(f"st-{status}", hero("x"), status=status)]},
        {"anonymousId": f"st-{status}", "context": {}, "slots": ["hero"]},
        {"hero": NONE},
    )

# ---------------------------------------------------------------- content types, tags, locales
for i, (targeting, ctx, hit) in enumerate([
    ({"contentTypes": ["article"]}, {"contentType": "article"}, True),
    ({"contentTypes": ["article"]}, {"contentType": "product"}, False),
    ({"contentTypes": ["article"]}, {}, False),
    ({"tags": ["summer", "sale"]}, {"tags": ["sale"]}, True),
    ({"tags": ["summer"]}, {"tags": ["winter", "sale"]}, False),
    ({"locales": ["fr"]}, {"locale": "fr-CA"}, True),
    ({"locales": ["fr"]}, {"locale": "fy"}, False),
    ({"locales": ["en-GB"]}, {"locale": "en-GB"}, True),
    ({"locales": ["en-GB"]}, {"locale": "en-US"}, False),
]):
    case(
        f"targeting {targeting} with context {ctx}",
        {"experiences": [exp(f"ct-{i}", hero("ct"), targeting=targeting)]},
        {"anonymousId": f"ct-{i}", "context": ctx, "slots": ["hero"]},
        {"hero": served(f"ct-{i}", "default", "targeted", c_payload({"title": "ct"})) if hit else NONE},
    )

# ---------------------------------------------------------------- audiences and conditions
gold = {"id": "gold", "condition": {"have": {"trait": "traits.tier", "op": "eq", "value": "gold"}}}
vip = {"id": "big-spender", "condition": {"have": {"trait": "traits.ltv", "op": "gte", "value": 1000}}}
campaign = {"id": "summer-campaign", "condition": {"context": {"field": "utm.campaign", "op": "eq", "value": "summer"}}}
for i, (audiences, traits, ctx, hit) in enumerate([
    (["gold"], {"tier": "gold"}, {}, True),
    (["gold"], {"tier": "silver"}, {}, False),
    (["gold"], {}, {}, False),
    (["gold", "big-spender"], {"tier": "bronze", "ltv": 1500}, {}, True),
    (["big-spender"], {"ltv": "1500"}, {}, False),
    (["summer-campaign"], {}, {"utm": {"campaign": "summer"}}, True),
    (["summer-campaign"], {}, {"utm": {"campaign": "winter"}}, False),
]):
    case(
        f"audience targeting {audiences} with traits {traits} and context {ctx}",
        {"audiences": [gold, vip, campaign], "experiences": [exp(f"aud-{i}", hero("aud"), targeting={"audiences": audiences})]},
        {"anonymousId": f"aud-{i}", "context": ctx, "slots": ["hero"]},
        {"hero": served(f"aud-{i}", "default", "targeted", c_payload({"title": "aud"})) if hit else NONE},
        profile={"traits": traits},
    )

cond_cases = [
    ({"have": {"trait": "traits.age", "op": "gte", "value": 18}}, {"age": 18}, {}, True),
    ({"have": {"trait": "traits.age", "op": "gte", "value": 18}}, {"age": 17}, {}, False),
    ({"have": {"trait": "traits.plan", "op": "in", "value": ["pro", "team"]}}, {"plan": "team"}, {}, True),
    ({"have": {"trait": "traits.plan", "op": "not_in", "value": ["pro", "team"]}}, {"plan": "free"}, {}, True),
    ({"have": {"trait": "traits.email", "op": "exists"}}, {}, {}, False),
    ({"not": {"have": {"trait": "traits.email", "op": "exists"}}}, {}, {}, True),
    ({"context": {"field": "geo.country", "op": "eq", "value": "FR"}}, {}, {"geo": {"country": "FR"}}, True),
    ({"context": {"field": "geo.country", "op": "eq", "value": "FR"}}, {}, {"geo": {"country": "DE"}}, False),
    ({"context": {"field": "device.type", "op": "eq", "value": "mobile"}}, {}, {"device": {"type": "mobile"}}, True),
    ({"context": {"field": "page.referrer", "op": "contains", "value": "google."}}, {}, {"referrer": "https://www.google.com/search"}, True),
    ({"context": {"field": "time.hour", "op": "gte", "value": 12}}, {}, {"timezone": "UTC"}, True),
    ({"context": {"field": "time.hour", "op": "lt", "value": 12}}, {}, {"timezone": "America/New_York"}, True),
    ({"context": {"field": "time.day_of_week", "op": "eq", "value": 1}}, {}, {}, True),
    ({"context": {"field": "page.path", "op": "matches", "value": "/cart/**"}}, {}, {"url": "https://s.example/cart/items"}, True),
    ({"all": [{"have": {"trait": "traits.tier", "op": "eq", "value": "gold"}}, {"context": {"field": "geo.country", "op": "eq", "value": "US"}}]}, {"tier": "gold"}, {"geo": {"country": "US"}}, True),
    ({"all": [{"have": {"trait": "traits.tier", "op": "eq", "value": "gold"}}, {"context": {"field": "geo.country", "op": "eq", "value": "US"}}]}, {"tier": "gold"}, {"geo": {"country": "CA"}}, False),
    ({"any": [{"in_audience": "gold"}, {"have": {"trait": "traits.ltv", "op": "gt", "value": 100}}]}, {"ltv": 101}, {}, True),
    ({"in_audience": "gold"}, {"tier": "gold"}, {}, True),
    ({"context": {"field": "utm.source", "op": "starts_with", "value": "news"}}, {}, {"utm": {"source": "newsletter"}}, True),
    ({"have": {"trait": "traits.tags", "op": "contains", "value": "vip"}}, {"tags": ["new", "vip"]}, {}, True),
]
for i, (cond, traits, ctx, hit) in enumerate(cond_cases):
    case(
        f"condition {json.dumps(cond)} with traits {traits} and context {ctx}",
        {"audiences": [gold], "experiences": [exp(f"cond-{i}", hero("c"), targeting={"condition": cond})]},
        {"anonymousId": f"cond-{i}", "context": ctx, "slots": ["hero"]},
        {"hero": served(f"cond-{i}", "default", "targeted", c_payload({"title": "c"})) if hit else NONE},
        profile={"traits": traits},
    )

# ---------------------------------------------------------------- experiments
ab = lambda vid, n=2: exp(vid, [(k, {"hero": content(k)}) for k in ["control", "b", "c", "d"][:n]])
goal = [{"id": "buy", "event": "Order Completed", "valueProperty": "revenue"}]


def experiment(id, experience, **kw):
    x = {"id": id, "name": id, "experienceId": experience, "goals": goal}
    x.update(kw)
    return x


def expected_variant(xid, unit, keys, traffic=100, weights=None, seed=None):
    w = [(weights or {}).get(k, 0) for k in keys] if weights else [1] * len(keys)
    if weights and not any(v > 0 for v in w):
        w = [1] * len(keys)
    i = allocate(seed or xid, unit, traffic / 100, w)
    return None if i is None else keys[i]


for n, weights in [(2, None), (2, {"control": 10, "b": 90}), (3, None), (4, {"control": 1, "b": 1, "c": 2, "d": 0})]:
    keys = ["control", "b", "c", "d"][:n]
    for j in range(4):
        unit = f"visitor-{n}-{j}-{len(cases)}"
        xid = f"x{len(cases)}"
        v = expected_variant(xid, unit, keys, weights=weights)
        kw = {"weights": weights} if weights else {}
        case(
            f"A/B/n: {n} variants, weights {weights}, visitor {unit} (bucket {bucket_of(xid, unit)})",
            {"experiences": [ab(f"e{len(cases)}", n)], "experiments": [experiment(xid, f"e{len(cases)}", **kw)]},
            {"anonymousId": unit, "context": {}, "slots": ["hero"]},
            {"hero": {"experience": f"e{len(cases)}", "variant": v, "reason": "experiment", "experiment": xid, "content": c_payload(v)}},
        )

# traffic: visitors outside the traffic share fall through (here to a lower-priority default).
found_in, found_out = None, None
for k in range(200):
    unit = f"ramp-{k}"
    v = expected_variant("ramp-x", unit, ["control", "b"], traffic=20)
    if v is None and found_out is None:
        found_out = unit
    if v is not None and found_in is None:
        found_in = (unit, v)
for unit, v in [found_in, (found_out, None)]:
    case(
        f"traffic 20%: visitor {unit} is {'in' if v else 'out'}",
        {"experiences": [ab("ramp-e"), exp("fallback", hero("fallback"), priority=-1)], "experiments": [experiment("ramp-x", "ramp-e", traffic=20)]},
        {"anonymousId": unit, "context": {}, "slots": ["hero"]},
        {"hero": {"experience": "ramp-e", "variant": v, "reason": "experiment", "content": c_payload(v)} if v else served("fallback", "default", "targeted", c_payload({"title": "fallback"}))},
    )

case(
    "a recorded exposure sticks even when the hash says otherwise",
    {"experiences": [ab("sticky-e")], "experiments": [experiment("sticky-x", "sticky-e", weights={"control": 0, "b": 1})]},
    {"anonymousId": "sticky-1", "context": {}, "slots": ["hero"]},
    {"hero": {"experience": "sticky-e", "variant": "control", "reason": "sticky", "content": c_payload("control")}},
    profile={"traits": {}, "exposures": [{"experiment": "sticky-x", "variant": "control", "at": "2026-06-10T00:00:00.000Z"}]},
)
case(
    "weights of 0 send everyone to the other variant",
    {"experiences": [ab("w0-e")], "experiments": [experiment("w0-x", "w0-e", weights={"control": 0, "b": 1})]},
    {"anonymousId": "w0-1", "context": {}, "slots": ["hero"]},
    {"hero": {"experience": "w0-e", "variant": "b", "reason": "experiment", "content": c_payload("b")}},
)
case(
    "a stopped experiment serves the experience's first variant",
    {"experiences": [ab("stop-e")], "experiments": [experiment("stop-x", "stop-e", status="stopped")]},
    {"anonymousId": "stop-1", "context": {}, "slots": ["hero"]},
    {"hero": {"experience": "stop-e", "variant": "control", "reason": "targeted", "content": c_payload("control")}},
)
seed_unit = "seeded-visitor"
case(
    "the seed, not the id, drives the hash when given",
    {"experiences": [ab("seed-e", 3)], "experiments": [experiment("seed-x", "seed-e", seed="spring-2026")]},
    {"anonymousId": seed_unit, "context": {}, "slots": ["hero"]},
    {"hero": {"experience": "seed-e", "variant": expected_variant("seed-x", seed_unit, ["control", "b", "c"], seed="spring-2026"), "reason": "experiment"}},
)
case(
    "the userId is the unit when there is no anonymousId",
    {"experiences": [ab("uid-e", 3)], "experiments": [experiment("uid-x", "uid-e")]},
    {"userId": "user-771", "context": {}, "slots": ["hero"]},
    {"hero": {"experience": "uid-e", "variant": expected_variant("uid-x", "user-771", ["control", "b", "c"]), "reason": "experiment"}},
)
case(
    "the anonymousId stays the unit after login (both ids sent)",
    {"experiences": [ab("login-e", 3)], "experiments": [experiment("login-x", "login-e")]},
    {"anonymousId": "anon-login-1", "userId": "user-login-1", "context": {}, "slots": ["hero"]},
    {"hero": {"experience": "login-e", "variant": expected_variant("login-x", "anon-login-1", ["control", "b", "c"]), "reason": "experiment"}},
)

# experiment holdout: find one held-out and one not
held = next(f"hold-{k}" for k in range(500) if in_holdout("hold-x:holdout", f"hold-{k}", 30))
kept = next(f"hold-{k}" for k in range(500) if not in_holdout("hold-x:holdout", f"hold-{k}", 30))
case(
    f"experiment holdout 30%: {held} is held out and sees the control",
    {"experiences": [ab("hold-e")], "experiments": [experiment("hold-x", "hold-e", holdout=30, weights={"control": 0, "b": 1})]},
    {"anonymousId": held, "context": {}, "slots": ["hero"]},
    {"hero": {"experience": "hold-e", "variant": "control", "reason": "holdout", "content": c_payload("control")}},
)
case(
    f"experiment holdout 30%: {kept} is in the experiment",
    {"experiences": [ab("hold-e")], "experiments": [experiment("hold-x", "hold-e", holdout=30, weights={"control": 0, "b": 1})]},
    {"anonymousId": kept, "context": {}, "slots": ["hero"]},
    {"hero": {"experience": "hold-e", "variant": "b", "reason": "experiment", "content": c_payload("b")}},
)
gheld = next(f"g-{k}" for k in range(500) if in_holdout("attune-global-holdout", f"g-{k}", 10))
gkept = next(f"g-{k}" for k in range(500) if not in_holdout("attune-global-holdout", f"g-{k}", 10))
case(
    f"global holdout 10%: {gheld} gets no personalization",
    {"settings": {"globalHoldout": 10}, "experiences": [exp("gh", hero("gh"))]},
    {"anonymousId": gheld, "context": {}, "slots": ["hero", "banner"]},
    {"hero": {"experience": None, "variant": None, "content": None, "reason": "global_holdout"}, "banner": {"reason": "global_holdout", "content": None}},
)
case(
    f"global holdout 10%: {gkept} is personalized",
    {"settings": {"globalHoldout": 10}, "experiences": [exp("gh", hero("gh"))]},
    {"anonymousId": gkept, "context": {}, "slots": ["hero"]},
    {"hero": served("gh", "default", "targeted", c_payload({"title": "gh"}))},
)
# layers: two experiments share a layer with disjoint halves
for k in range(3):
    unit = f"layer-visitor-{k}"
    in_a = in_layer("checkout", unit, 0, 0.5)
    case(
        f"layer 'checkout': {unit} is in {'the first' if in_a else 'the second'} half only",
        {
            "experiences": [ab("la-e"), exp("lb-e", [("control", {"banner": content("lb-control")}), ("b", {"banner": content("lb-b")})])],
            "experiments": [
                experiment("la-x", "la-e", layer={"id": "checkout", "range": [0, 0.5]}, weights={"control": 0, "b": 1}),
                experiment("lb-x", "lb-e", layer={"id": "checkout", "range": [0.5, 1]}, weights={"control": 0, "b": 1}),
            ],
        },
        {"anonymousId": unit, "context": {}, "slots": ["hero", "banner"]},
        {
            "hero": {"experience": "la-e", "variant": "b"} if in_a else NONE,
            "banner": NONE if in_a else {"experience": "lb-e", "variant": "b"},
        },
    )

# ---------------------------------------------------------------- offers and next best action
def offer(id, **kw):
    o = {"id": id, "name": id, "content": {"offer": id}}
    o.update(kw)
    return o


nba = lambda limit=1, **kw: exp("nba", [("default", {"hero": {"offers": dict({"limit": limit}, **kw)}})])


def offers_payload(*items):
    return {"type": "offers", "offers": [{"id": i, "name": i, "content": {"offer": i}, "priority": p, "score": s} for i, p, s in items]}


case("next best action: priority ranks first", {"offers": [offer("o-low", priority=1), offer("o-high", priority=5)], "experiences": [nba(2)]},
     {"anonymousId": "nba-1", "context": {}, "slots": ["hero"]}, {"hero": {"experience": "nba", "content": offers_payload(("o-high", 5, 0), ("o-low", 1, 0))}})
case("next best action: score orders within a priority", {"offers": [offer("o-a", score={"base": 1}), offer("o-b", score={"base": 3})], "experiences": [nba(2)]},
     {"anonymousId": "nba-2", "context": {}, "slots": ["hero"]}, {"hero": {"content": offers_payload(("o-b", 0, 3), ("o-a", 0, 1))}})
case("next best action: trait-weighted score", {"offers": [offer("o-a", score={"base": 0, "traits": [{"path": "traits.visits", "weight": 0.5}]}), offer("o-b", score={"base": 4})], "experiences": [nba(1)]},
     {"anonymousId": "nba-3", "context": {}, "slots": ["hero"]}, {"hero": {"content": offers_payload(("o-a", 0, 5))}}, profile={"traits": {"visits": 10}})
case("next best action: ties go to the smaller id", {"offers": [offer("o-z"), offer("o-m")], "experiences": [nba(2)]},
     {"anonymousId": "nba-4", "context": {}, "slots": ["hero"]}, {"hero": {"content": offers_payload(("o-m", 0, 0), ("o-z", 0, 0))}})
case("next best action: eligibility condition filters", {"offers": [offer("o-gold", priority=9, eligibility={"in_audience": "gold"}), offer("o-all")], "audiences": [gold], "experiences": [nba(2)]},
     {"anonymousId": "nba-5", "context": {}, "slots": ["hero"]}, {"hero": {"content": offers_payload(("o-all", 0, 0))}}, profile={"traits": {"tier": "silver"}})
case("next best action: eligible gold member sees the gold offer first", {"offers": [offer("o-gold", priority=9, eligibility={"in_audience": "gold"}), offer("o-all")], "audiences": [gold], "experiences": [nba(2)]},
     {"anonymousId": "nba-6", "context": {}, "slots": ["hero"]}, {"hero": {"content": offers_payload(("o-gold", 9, 0), ("o-all", 0, 0))}}, profile={"traits": {"tier": "gold"}})
case("next best action: offers out of schedule are skipped", {"offers": [offer("o-old", priority=5, schedule={"end": "2026-06-01T00:00:00.000Z"}), offer("o-now")], "experiences": [nba(2)]},
     {"anonymousId": "nba-7", "context": {}, "slots": ["hero"]}, {"hero": {"content": offers_payload(("o-now", 0, 0))}})
case("next best action: a total cap reached removes the offer", {"offers": [offer("o-capped", priority=5, caps={"total": 2}), offer("o-free")], "experiences": [nba(1)]},
     {"anonymousId": "nba-8", "context": {}, "slots": ["hero"]}, {"hero": {"content": offers_payload(("o-free", 0, 0))}},
     profile={"traits": {}, "offerViews": [{"offer": "o-capped", "at": "2026-06-01T10:00:00.000Z"}, {"offer": "o-capped", "at": "2026-06-02T10:00:00.000Z"}]})
case("next best action: under the total cap the offer stays", {"offers": [offer("o-capped", priority=5, caps={"total": 3}), offer("o-free")], "experiences": [nba(1)]},
     {"anonymousId": "nba-9", "context": {}, "slots": ["hero"]}, {"hero": {"content": offers_payload(("o-capped", 5, 0))}},
     profile={"traits": {}, "offerViews": [{"offer": "o-capped", "at": "2026-06-01T10:00:00.000Z"}, {"offer": "o-capped", "at": "2026-06-02T10:00:00.000Z"}]})
case("next best action: the daily cap counts today only", {"offers": [offer("o-daily", priority=5, caps={"perDay": 1}), offer("o-free")], "experiences": [nba(1)]},
     {"anonymousId": "nba-10", "context": {}, "slots": ["hero"]}, {"hero": {"content": offers_payload(("o-free", 0, 0))}},
     profile={"traits": {}, "offerViews": [{"offer": "o-daily", "at": "2026-06-15T08:00:00.000Z"}]})
case("next best action: yesterday's view does not count toward today's cap", {"offers": [offer("o-daily", priority=5, caps={"perDay": 1}), offer("o-free")], "experiences": [nba(1)]},
     {"anonymousId": "nba-11", "context": {}, "slots": ["hero"]}, {"hero": {"content": offers_payload(("o-daily", 5, 0))}},
     profile={"traits": {}, "offerViews": [{"offer": "o-daily", "at": "2026-06-14T23:00:00.000Z"}]})
case("next best action: tags restrict the pool", {"offers": [offer("o-shoe", tags=["shoes"], priority=1), offer("o-hat", tags=["hats"], priority=9)], "experiences": [nba(2, tags=["shoes"])]},
     {"anonymousId": "nba-12", "context": {}, "slots": ["hero"]}, {"hero": {"content": offers_payload(("o-shoe", 1, 0))}})
case("next best action: an explicit pool", {"offers": [offer("o-1", priority=1), offer("o-2", priority=2), offer("o-3", priority=3)], "experiences": [nba(5, **{"from": ["o-1", "o-2"]})]},
     {"anonymousId": "nba-13", "context": {}, "slots": ["hero"]}, {"hero": {"content": offers_payload(("o-2", 2, 0), ("o-1", 1, 0))}})
case("an offer reference resolves to the offer's content",
     {"offers": [offer("o-ref")], "experiences": [exp("ref", [("default", {"hero": {"ref": {"type": "offer", "id": "o-ref"}}})])]},
     {"anonymousId": "ref-1", "context": {}, "slots": ["hero"]},
     {"hero": {"experience": "ref", "content": {"type": "ref", "ref": {"type": "offer", "id": "o-ref"}, "offer": {"id": "o-ref", "name": "o-ref", "content": {"offer": "o-ref"}, "priority": 0, "score": 0}}}})
case("an offer reference to a capped offer leaves the default",
     {"offers": [offer("o-ref2", caps={"total": 1})], "experiences": [exp("ref2", [("default", {"hero": {"ref": {"type": "offer", "id": "o-ref2"}}})])]},
     {"anonymousId": "ref-2", "context": {}, "slots": ["hero"]}, {"hero": {"experience": "ref2", "content": None}},
     profile={"traits": {}, "offerViews": [{"offer": "o-ref2", "at": "2026-06-10T10:00:00.000Z"}]})
case("a CMS reference is returned for the renderer to resolve",
     {"experiences": [exp("cms", [("default", {"hero": {"ref": {"type": "cms", "id": "api::banner.banner:12"}}})])]},
     {"anonymousId": "cms-1", "context": {}, "slots": ["hero"]}, {"hero": {"content": {"type": "ref", "ref": {"type": "cms", "id": "api::banner.banner:12"}}}})
case("a web experience returns its HTML fragment",
     {"experiences": [exp("web", [("default", {"hero": {"html": "<b>Hi</b>", "css": "b{color:red}"}})], type="web")]},
     {"anonymousId": "web-1", "context": {}, "slots": ["hero"]}, {"hero": {"content": {"type": "html", "html": "<b>Hi</b>", "css": "b{color:red}"}}})

# ---------------------------------------------------------------- decision tables and models
def table(id, policy, inputs, rules, default=None):
    t = {"id": id, "name": id, "hitPolicy": policy, "inputs": [{"id": k, "source": v} for k, v in inputs], "rules": rules}
    if default is not None:
        t["default"] = default
    return t


def rule(when, then, priority=None):
    r = {"when": when, "then": then}
    if priority is not None:
        r["priority"] = priority
    return r


tier_table = lambda policy, default=None: table("tiers", policy, [("tier", "traits.tier"), ("country", "context.geo.country")], [
    rule({"tier": {"op": "eq", "value": "gold"}, "country": "-"}, {"value": "gold-any"}, 1),
    rule({"tier": {"op": "in", "value": ["gold", "silver"]}, "country": {"op": "eq", "value": "FR"}}, {"value": "metal-fr"}, 5),
    rule({"tier": "-", "country": {"op": "eq", "value": "FR"}}, {"value": "any-fr"}, 3),
], default)
tbl_exp = exp("tbl", [("default", {"hero": {"table": "tiers"}})])
for i, (policy, traits, ctx, payload) in enumerate([
    ("first", {"tier": "gold"}, {"geo": {"country": "FR"}}, {"type": "value", "value": "gold-any"}),
    ("first", {"tier": "silver"}, {"geo": {"country": "FR"}}, {"type": "value", "value": "metal-fr"}),
    ("first", {"tier": "bronze"}, {"geo": {"country": "FR"}}, {"type": "value", "value": "any-fr"}),
    ("first", {"tier": "bronze"}, {"geo": {"country": "US"}}, None),
    ("priority", {"tier": "gold"}, {"geo": {"country": "FR"}}, {"type": "value", "value": "metal-fr"}),
    ("priority", {"tier": "gold"}, {"geo": {"country": "US"}}, {"type": "value", "value": "gold-any"}),
    ("collect", {"tier": "gold"}, {"geo": {"country": "FR"}}, {"type": "collect", "items": [{"type": "value", "value": "gold-any"}, {"type": "value", "value": "metal-fr"}, {"type": "value", "value": "any-fr"}]}),
    ("collect", {"tier": "bronze"}, {"geo": {"country": "US"}}, {"type": "collect", "items": []}),
    ("unique", {"tier": "bronze"}, {"geo": {"country": "FR"}}, {"type": "value", "value": "any-fr"}),
    ("unique", {"tier": "gold"}, {"geo": {"country": "FR"}}, None),
]):
    case(
        f"decision table, hit policy {policy}, tier {traits.get('tier')}, country {ctx['geo']['country']}",
        {"tables": [tier_table(policy)], "experiences": [tbl_exp]},
        {"anonymousId": f"tbl-{i}", "context": ctx, "slots": ["hero"]},
        {"hero": {"experience": "tbl", "variant": "default", "reason": "targeted", "content": payload}},
        profile={"traits": traits},
    )
case("decision table default when nothing matches", {"tables": [tier_table("first", {"value": "nothing"})], "experiences": [tbl_exp]},
     {"anonymousId": "tbl-d", "context": {"geo": {"country": "US"}}, "slots": ["hero"]}, {"hero": {"content": {"type": "value", "value": "nothing"}}}, profile={"traits": {"tier": "bronze"}})
case("decision table reads audiences",
     {"audiences": [gold], "tables": [table("aud-t", "first", [("aud", "audiences")], [rule({"aud": {"op": "contains", "value": "gold"}}, {"content": {"banner": "gold"}})], {"content": {"banner": "everyone"}})],
      "experiences": [exp("aud-te", [("default", {"hero": {"table": "aud-t"}})])]},
     {"anonymousId": "tbl-aud", "context": {}, "slots": ["hero"]}, {"hero": {"content": {"type": "content", "content": {"banner": "gold"}}}}, profile={"traits": {"tier": "gold"}})
case("decision table outputs an offer",
     {"offers": [offer("o-t")], "tables": [table("offer-t", "first", [("t", "traits.tier")], [rule({"t": "-"}, {"offer": "o-t"})])],
      "experiences": [exp("offer-te", [("default", {"hero": {"table": "offer-t"}})])]},
     {"anonymousId": "tbl-offer", "context": {}, "slots": ["hero"]},
     {"hero": {"content": {"type": "ref", "ref": {"type": "offer", "id": "o-t"}, "offer": {"id": "o-t", "name": "o-t", "content": {"offer": "o-t"}, "priority": 0, "score": 0}}}})
case("decision table interpolates traits into content",
     {"tables": [table("greet", "first", [("t", "traits.first_name")], [rule({"t": {"op": "exists"}}, {"content": {"text": "Hello {{traits.first_name}}!", "name": "{{traits.first_name}}"}})])],
      "experiences": [exp("greet-e", [("default", {"hero": {"table": "greet"}})])]},
     {"anonymousId": "tbl-greet", "context": {}, "slots": ["hero"]}, {"hero": {"content": {"type": "content", "content": {"text": "Hello Ada!", "name": "Ada"}}}}, profile={"traits": {"first_name": "Ada"}})
case("decision table cell glob (matches) on the path",
     {"tables": [table("path-t", "first", [("p", "context.path")], [rule({"p": {"op": "matches", "value": "/sale/**"}}, {"value": "sale"})], {"value": "other"})],
      "experiences": [exp("path-te", [("default", {"hero": {"table": "path-t"}})])]},
     {"anonymousId": "tbl-path", "context": {"path": "/sale/shoes"}, "slots": ["hero"]}, {"hero": {"content": {"type": "value", "value": "sale"}}})
model_cfg = {
    "tables": [
        table("segment", "first", [("ltv", "traits.ltv")], [rule({"ltv": {"op": "gte", "value": 500}}, {"value": "high"})], {"value": "low"}),
        table("banner", "first", [("seg", "tables.segment"), ("c", "context.geo.country")], [
            rule({"seg": {"op": "eq", "value": "high"}, "c": {"op": "eq", "value": "FR"}}, {"content": {"banner": "vip-fr"}}),
            rule({"seg": {"op": "eq", "value": "high"}, "c": "-"}, {"content": {"banner": "vip"}}),
        ], {"content": {"banner": "standard"}}),
    ],
    "models": [{"id": "banner-model", "name": "banner model", "tables": ["segment", "banner"]}],
    "experiences": [exp("model-e", [("default", {"hero": {"model": "banner-model"}})])],
}
for i, (ltv, country, banner) in enumerate([(800, "FR", "vip-fr"), (800, "US", "vip"), (100, "FR", "standard")]):
    case(f"decision model chains tables: ltv {ltv}, country {country}", model_cfg,
         {"anonymousId": f"model-{i}", "context": {"geo": {"country": country}}, "slots": ["hero"]},
         {"hero": {"experience": "model-e", "content": {"type": "content", "content": {"banner": banner}}}}, profile={"traits": {"ltv": ltv}})
connector_cfg = {
    "connectors": [{"id": "price-api", "name": "price API", "url": "http://127.0.0.1:9/price/{{context.sku}}", "timeoutMs": 200,
                    "outputs": {"price": "data.price"}, "fallback": {"price": 99}}],
    "tables": [table("price-t", "first", [("price", "connectors.price-api.price")], [
        rule({"price": {"op": "lt", "value": 100}}, {"content": {"text": "Only {{connectors.price-api.price}} EUR"}})], {"content": {"text": "premium"}})],
    "models": [{"id": "price-model", "name": "price", "connectors": ["price-api"], "tables": ["price-t"]}],
    "experiences": [exp("price-e", [("default", {"hero": {"model": "price-model"}})])],
}
case("a connector that cannot answer yields its fallback value, and the decision still succeeds", connector_cfg,
     {"anonymousId": "conn-1", "context": {"sku": "SKU-1"}, "slots": ["hero"]},
     {"hero": {"experience": "price-e", "reason": "targeted", "content": {"type": "content", "content": {"text": "Only 99 EUR"}}}})
case("a connector whose URL needs a missing value yields its fallback", connector_cfg,
     {"anonymousId": "conn-2", "context": {}, "slots": ["hero"]},
     {"hero": {"experience": "price-e", "content": {"type": "content", "content": {"text": "Only 99 EUR"}}}})

# ---------------------------------------------------------------- write
for i, c in enumerate(cases):
    c["id"] = i + 1
assert len({c["name"] for c in cases}) == len(cases), "case names must be unique"
doc = {
    "description": (
        "Language-neutral decision cases. Each case gives a configuration (audiences, experiences, offers, decision tables, "
        "models, connectors, experiments, settings, as the admin API accepts them), an optional visitor profile (traits, "
        "past exposures, past offer views), a decide request and `now`; `expected` lists, per slot, the fields of the answer "
        "that must match exactly. Audiences here read traits and context only. Connectors point at a closed port, so every "
        "path sees the fallback. Bucketing follows packages/core/spec/bucketing.json."
    ),
    "cases": [{"id": c["id"], **{k: v for k, v in c.items() if k != "id"}} for c in cases],
}
with open(os.path.join(HERE, "decisions.json"), "w") as f:
    json.dump(doc, f, indent=1, ensure_ascii=False)
    f.write("\n")

print(f"{len(cases)} decision cases (bucketing.json is written by bucketing.gen.py)")
