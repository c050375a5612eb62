"""Deterministic demo warehouse generator (`segsql demo`).

Everything is generated inside DuckDB with plain SQL (fixed text, no user input).
Randomness comes from `hash(hash(seed, key1, key2, salt))`, never `random()`, so
the output is a pure function of (users, events, end, seed) whatever the number
of threads.

Tables written to schema `main` (naive UTC timestamps, `JSON` columns):

- `accounts(account_id, name, tier, industry, seats, created_at)`: users / 10 rows
- `users(user_id, email, account_id, plan, country, signup_at, lifetime_value,
  is_internal, traits)`
- `events(user_id, event_name, ts, platform, properties)`: ~85% of `events`
- `email_events(user_id, event_name, ts, campaign, properties)`: ~10%
- `account_events(account_id, event_name, ts, properties)`: 5%

The three event tables hold exactly `events` rows together (unless the budget
exceeds what the users can produce). Every timestamp lies in [end - 365d, end).
"""

from __future__ import annotations

import os
import string
from datetime import datetime, timedelta, timezone
from typing import Any

from ..clock import utc_naive

__all__ = ["DEMO_TABLES", "default_end", "generate"]

DEMO_TABLES: tuple[str, ...] = ("accounts", "users", "events", "email_events", "account_events")

_DAY_US = 86_400_000_000
_HOUR_US = 3_600_000_000
_MIN_US = 60_000_000
_SEC_US = 1_000_000

# All SQL below is fixed text. `$name` placeholders are filled by `_render` with
# integers only. Times are computed as epoch microseconds (BIGINT) and turned
# into TIMESTAMPs with make_timestamp() at the end.

_MACROS = """
-- uniform double in [0, 1) from (seed, a, b, salt); DuckDB's multi-argument hash
-- combines the argument hashes linearly, hashing it again decorrelates the salts
CREATE OR REPLACE TEMP MACRO demo_rnd(a, b, salt) AS
    (hash(hash($seed, a, b, salt)) >> 11) / 9007199254740992.0;
-- an element of a list, picked with a uniform r in [0, 1)
CREATE OR REPLACE TEMP MACRO demo_pick(xs, r) AS
    xs[1 + CAST(floor(r * len(xs)) AS BIGINT)];
-- exponential(1) variate from a uniform r
CREATE OR REPLACE TEMP MACRO demo_exp(r) AS -ln(1.0 - r);
-- a random instant in [lo_us, hi_us)
CREATE OR REPLACE TEMP MACRO demo_between(lo_us, hi_us, r) AS
    lo_us + CAST(r * (hi_us - lo_us) AS BIGINT);
"""

_ACCOUNTS = """
CREATE OR REPLACE TEMP TABLE _demo_accounts AS
WITH base AS (
    SELECT
        i + 1 AS account_id,
        demo_pick(
            ['Acme', 'Globex', 'Initech', 'Umbrella', 'Hooli', 'Stark', 'Wayne', 'Wonka',
             'Tyrell', 'Cyberdyne', 'Soylent', 'Vandelay', 'Pied Piper', 'Dunder', 'Aperture',
             'Black Mesa', 'Oscorp', 'Gringotts', 'Monarch', 'Nakatomi', 'Massive', 'Prestige',
             'Virtucon', 'Duff', 'Sterling', 'Bluth', 'Gekko', 'Vehement', 'Rekall', 'Zorg'],
            demo_rnd(i, 0, 'acc_name1')) AS prefix,
        demo_pick(
            ['Labs', 'Analytics', 'Systems', 'Health', 'Logistics', 'Media', 'Capital',
             'Retail', 'Foods', 'Energy', 'Studios', 'Robotics'],
            demo_rnd(i, 0, 'acc_name2')) AS suffix,
        demo_pick(
            ['software', 'software', 'retail', 'retail', 'finance', 'healthcare', 'media',
             'education', 'manufacturing', 'logistics'],
            demo_rnd(i, 0, 'acc_industry')) AS industry,
        demo_rnd(i, 0, 'acc_tier') AS r_tier,
        demo_rnd(i, 0, 'acc_seats') AS r_seats,
        demo_between($end_us - 400 * $day_us, $end_us - 30 * $day_us,
                     demo_rnd(i, 0, 'acc_created')) AS created_us,
        -- some paying accounts stop paying: no invoices after churn_us
        CASE WHEN demo_rnd(i, 0, 'acc_churn') < 0.15
             THEN demo_between($end_us - 240 * $day_us, $end_us - 40 * $day_us,
                               demo_rnd(i, 0, 'acc_churn_t'))
        END AS churn_us
    FROM range($n_accounts) t(i)
)
SELECT
    account_id,
    prefix || ' ' || suffix AS name,
    CASE WHEN r_tier < 0.50 THEN 'free'
         WHEN r_tier < 0.85 THEN 'pro'
         ELSE 'enterprise' END AS tier,
    industry,
    CAST(CASE WHEN r_tier < 0.50 THEN 1 + floor(r_seats * 5)
              WHEN r_tier < 0.85 THEN 5 + floor(r_seats * 45)
              ELSE 50 + floor(r_seats * r_seats * 450) END AS INTEGER) AS seats,
    created_us,
    churn_us,
    lower(replace(prefix, ' ', '')) || '-' || lower(suffix) || account_id || '.com' AS domain
FROM base;
"""

# Hidden per-user attributes drive the event generation: cohort, activity window
# [signup_us, last_us], a heavy-tailed activity weight and some habits.
_USERS = """
CREATE OR REPLACE TEMP TABLE _demo_users AS
WITH base AS (
    SELECT
        i + 1 AS user_id,
        demo_rnd(i, 0, 'u_cohort') AS r_cohort,
        demo_rnd(i, 0, 'u_signup') AS r_signup,
        demo_rnd(i, 0, 'u_plan') AS r_plan,
        demo_rnd(i, 0, 'u_churn') AS r_churn,
        demo_rnd(i, 0, 'u_last') AS r_last,
        demo_rnd(i, 0, 'u_weight') AS r_weight,
        demo_rnd(i, 0, 'u_none') AS r_none,
        demo_rnd(i, 0, 'u_mail') AS r_mail,
        CASE WHEN demo_rnd(i, 0, 'u_cohort') < 0.006 THEN 'new'
             WHEN demo_rnd(i, 0, 'u_cohort') < 0.11 THEN 'trial'
             ELSE 'regular' END AS cohort,
        -- 15% have no account; big accounts (low ids) get more users
        CASE WHEN demo_rnd(i, 0, 'u_account') >= 0.15
             THEN 1 + CAST(floor(power(demo_rnd(i, 0, 'u_acc_pick'), 1.4) * $n_accounts) AS BIGINT)
        END AS account_id,
        demo_pick(['US', 'US', 'US', 'US', 'US', 'US', 'US', 'US', 'DE', 'DE', 'DE', 'DE',
                   'GB', 'GB', 'GB', 'FR', 'FR', 'IN', 'IN', 'BR', 'BR', 'CA', 'NL', 'ES',
                   'JP', 'AU', 'SE', 'PL'], demo_rnd(i, 0, 'u_country')) AS country,
        demo_rnd(i, 0, 'u_internal') < 0.01 AS is_internal
    FROM range($n_users) t(i)
),
signups AS (
    SELECT
        b.*,
        a.domain AS account_domain,
        CASE b.cohort
            -- a few users signed up during the last day (between end - 24h and end - 3h)
            WHEN 'new' THEN demo_between($end_us - 24 * $hour_us, $end_us - 3 * $hour_us, r_signup)
            -- trials started during the three weeks before
            WHEN 'trial' THEN demo_between($end_us - 21 * $day_us, $end_us - $day_us, r_signup)
            -- everybody else during the year before
            ELSE demo_between($end_us - 365 * $day_us, $end_us - 14 * $day_us, r_signup)
        END AS signup_us,
        CASE
            WHEN b.cohort <> 'regular' THEN 'trial'
            WHEN a.tier = 'enterprise' AND r_plan < 0.9 THEN 'enterprise'
            WHEN a.tier = 'pro' AND r_plan < 0.7 THEN 'pro'
            WHEN r_plan < 0.06 THEN NULL
            WHEN r_plan < 0.12 THEN 'trial'
            WHEN r_plan < 0.70 THEN 'free'
            WHEN r_plan < 0.95 THEN 'pro'
            ELSE 'enterprise'
        END AS plan
    FROM base b
    LEFT JOIN _demo_accounts a USING (account_id)
),
windows AS (
    SELECT
        *,
        -- a third of the older users churned somewhere between signup and now; the
        -- others are active until the last two days
        CASE WHEN cohort = 'regular' AND r_churn < 0.35
             THEN demo_between(signup_us, $end_us - 2 * $hour_us, 0.05 + 0.75 * r_last)
             ELSE greatest(signup_us,
                           $end_us - 2 * $hour_us - CAST(r_last * 36 * $hour_us AS BIGINT))
        END AS last_us
    FROM signups
)
SELECT
    *,
    -- Pareto(1.15) activity weight shifted so that many users do very little, capped,
    -- scaled by tenure; ~6% of the users (never new ones) have no events at all
    CASE WHEN r_none < 0.06 AND cohort <> 'new' THEN 0
         ELSE CAST(1000 * least(power(1.0 - r_weight, -1.0 / 1.15) - 0.92, 700.0)
                   * sqrt(least(1.0, 0.02 + (last_us - signup_us) / (120.0 * $day_us)))
                   AS BIGINT)
    END AS weight,
    demo_pick([0.15, 0.45, 0.8], demo_rnd(user_id, 0, 'u_shop')) AS shop_share,
    CAST(floor(demo_rnd(user_id, 0, 'u_fav_cat') * 8) AS INTEGER) AS fav_cat,
    0.25 + 0.5 * demo_rnd(user_id, 0, 'u_buy') AS buy_rate,
    demo_pick(['web', 'web', 'web', 'ios', 'ios', 'android'],
              demo_rnd(user_id, 0, 'u_platform')) AS main_platform,
    demo_rnd(user_id, 0, 'u_setup') < (CASE WHEN cohort = 'regular' THEN 0.8 ELSE 0.45 END)
        AS does_setup,
    plan IN ('pro', 'enterprise') AND demo_rnd(user_id, 0, 'u_upgrade') < 0.35 AS upgraded
FROM windows;
"""

# Split the event budget over the users in proportion to their weight, exactly:
# integer arithmetic, so the total is $n_events whenever some weight is > 0.
_ALLOCATION = """
CREATE OR REPLACE TEMP TABLE _demo_alloc AS
WITH cum AS (
    SELECT
        user_id,
        CAST($n_events AS HUGEINT) * sum(weight) OVER (ORDER BY user_id)
            // greatest(1, sum(weight) OVER ()) AS upto
    FROM _demo_users
)
SELECT
    user_id,
    CAST(upto - coalesce(lag(upto) OVER (ORDER BY user_id), 0) AS BIGINT) AS n_events
FROM cum;
"""

# Events come in sessions: session_start, maybe login, then a shopping, work or
# support pattern. The first session is at signup (where setup happens), later
# sessions lean towards the end of the user's activity window.
_EVENTS = """
CREATE OR REPLACE TEMP TABLE _demo_events AS
WITH numbered AS (
    -- one row per event; a new session starts with probability 1/7
    SELECT a.user_id, r.i,
           (r.i = 0 OR demo_rnd(a.user_id, r.i, 'e_break') < 1.0 / 7) AS is_start
    FROM _demo_alloc a, range(a.n_events) r(i)
    WHERE a.n_events > 0
),
sessions AS (
    SELECT *, sum(CAST(is_start AS INTEGER)) OVER (PARTITION BY user_id ORDER BY i) - 1 AS sid
    FROM numbered
),
positions AS (
    SELECT *, i - min(i) OVER (PARTITION BY user_id, sid) AS p
    FROM sessions
),
shaped AS (
    SELECT
        s.user_id, s.i, s.sid, s.p,
        u.does_setup, u.upgraded, u.plan,
        CASE WHEN s.sid = 0
             THEN u.signup_us + CAST(demo_rnd(s.user_id, 0, 's_start') * 10 * $min_us AS BIGINT)
             ELSE demo_between(u.signup_us, u.last_us, sqrt(demo_rnd(s.user_id, s.sid, 's_start')))
        END AS start_us,
        CASE WHEN demo_rnd(s.user_id, s.sid, 's_type') < u.shop_share THEN 'shop'
             WHEN demo_rnd(s.user_id, s.sid, 's_type2') < 0.08 THEN 'support'
             ELSE 'work' END AS stype,
        CASE WHEN demo_rnd(s.user_id, s.sid, 's_platform') < 0.85 THEN u.main_platform
             ELSE demo_pick(['web', 'ios', 'android'], demo_rnd(s.user_id, s.sid, 's_platform2'))
        END AS platform,
        -- shoppers mostly stick to a favourite category
        CASE WHEN demo_rnd(s.user_id, s.sid, 's_fav') < 0.6 THEN u.fav_cat
             ELSE CAST(floor(demo_rnd(s.user_id, s.sid, 's_category') * 8) AS INTEGER)
        END AS cat,
        -- position inside the repeating shopping (6 steps) and work (5 steps) patterns
        (s.p - 2) % 6 AS shop_step,
        (s.p - 2) % 5 AS work_step,
        -- most shopping rounds put something in the cart, some only browse; a cart is
        -- bought with the user's conversion rate
        demo_rnd(s.user_id, s.sid * 1000 + (s.p - 2) // 6, 's_cart') < 0.65 AS carted,
        demo_rnd(s.user_id, s.sid * 1000 + (s.p - 2) // 6, 's_buy') < u.buy_rate AS bought,
        demo_rnd(s.user_id, s.i, 'e_r1') AS r1,
        demo_rnd(s.user_id, s.i, 'e_r2') AS r2,
        demo_rnd(s.user_id, s.i, 'e_r3') AS r3
    FROM positions s
    JOIN _demo_users u USING (user_id)
),
named AS (
    SELECT
        *,
        CASE
            WHEN p = 0 THEN 'session_start'
            WHEN p = 1 THEN CASE WHEN r1 < 0.6 THEN 'login' ELSE 'page_view' END
            WHEN sid = 0 AND p = 2 AND does_setup THEN 'setup_completed'
            WHEN sid = 1 AND p = 2 AND upgraded THEN 'subscription_upgraded'
            WHEN stype = 'shop' THEN CASE shop_step
                WHEN 0 THEN 'product_viewed'
                WHEN 1 THEN 'product_viewed'
                WHEN 2 THEN CASE WHEN carted THEN 'add_to_cart' ELSE 'product_viewed' END
                WHEN 3 THEN
                    CASE WHEN carted AND bought THEN 'checkout_completed' ELSE 'page_view' END
                WHEN 4 THEN 'page_view'
                ELSE 'product_viewed'
            END
            WHEN stype = 'support' THEN
                CASE WHEN p = 3 THEN 'support_ticket_created' ELSE 'page_view' END
            ELSE CASE work_step
                WHEN 0 THEN 'page_view'
                WHEN 1 THEN 'feature_used'
                WHEN 2 THEN CASE WHEN r1 < 0.5 THEN 'report_created' ELSE 'feature_used' END
                WHEN 3 THEN 'feature_used'
                ELSE 'page_view'
            END
        END AS event_name,
        ['electronics', 'apparel', 'shoes', 'books', 'home', 'beauty', 'sports', 'toys'][cat + 1]
            AS category,
        [180.0, 45.0, 90.0, 18.0, 70.0, 30.0, 60.0, 25.0][cat + 1] AS base_price,
        'sku_' || (cat * 1000 + CAST(floor(r2 * 200) AS INTEGER)) AS product_id
    FROM shaped
)
SELECT
    user_id,
    event_name,
    -- events of a session are 90s apart plus jitter, and always before `end`
    make_timestamp(least(start_us + p * 90 * $sec_us + CAST(r3 * 60 * $sec_us AS BIGINT),
                         $end_us - $sec_us)) AS ts,
    platform,
    CASE event_name
        WHEN 'session_start' THEN json_object('referrer', demo_pick(
            ['direct', 'direct', 'google', 'google', 'newsletter', 'linkedin', 'partner'], r2))
        WHEN 'login' THEN json_object('method', demo_pick(
            ['password', 'password', 'google_sso', 'saml'], r2))
        WHEN 'page_view' THEN json_object('path', CASE
            WHEN stype = 'shop' THEN '/products/' || category
            WHEN stype = 'support' THEN '/help'
            ELSE demo_pick(
                ['/', '/pricing', '/docs', '/blog', '/features', '/integrations', '/changelog'], r2)
        END)
        WHEN 'product_viewed' THEN json_object(
            'category', category, 'product_id', product_id,
            'price', round(base_price * (0.5 + r2), 2))
        WHEN 'add_to_cart' THEN json_object(
            'category', category, 'product_id', product_id,
            'quantity', 1 + CAST(floor(demo_exp(r1) * 0.7) AS INTEGER))
        WHEN 'checkout_completed' THEN json_object(
            'order_id', 'ord_' || user_id || '_' || i,
            'amount', round(base_price * (0.4 + 1.6 * demo_exp(r2)), 2),
            'category', category,
            'currency', 'USD',
            'items', 1 + CAST(floor(demo_exp(r1) * 1.2) AS INTEGER))
        WHEN 'feature_used' THEN json_object('feature', demo_pick(
            ['dashboards', 'alerts', 'exports', 'sql_editor', 'api', 'scheduling', 'sharing'],
            r2 * r2))
        WHEN 'report_created' THEN json_object('report_type', demo_pick(
            ['funnel', 'retention', 'cohort', 'dashboard', 'table'], r2))
        WHEN 'setup_completed' THEN json_object(
            'minutes_taken', 3 + CAST(floor(demo_exp(r2) * 12) AS INTEGER))
        WHEN 'subscription_upgraded' THEN json_object('from_plan', 'free', 'to_plan', plan)
        WHEN 'support_ticket_created' THEN json_object(
            'priority', demo_pick(['low', 'normal', 'normal', 'high', 'urgent'], r2),
            'topic', demo_pick(['billing', 'bug', 'how_to', 'sso'], r1))
    END AS properties
FROM named;
"""

# Email: two campaigns a week (a digest and product news), each delivered to a
# random share of the users who had signed up, are not internal and did not opt
# out. Opens follow deliveries (a fifth of the users hardly ever open), clicks
# follow opens.
_EMAIL = """
CREATE OR REPLACE TEMP TABLE _demo_email AS
WITH campaigns AS (
    SELECT
        k,
        CASE WHEN k % 2 = 0 THEN 'weekly_digest' ELSE 'product_news' END AS kind,
        $start_day_us + k * 84 * $hour_us + 9 * $hour_us AS send_us
    FROM range(104) t(k)
),
audience AS (
    SELECT
        user_id,
        signup_us,
        -- mailing frequency factor (mean 1, integer for an exact total) and open rate
        CAST(1000000 * (0.2 + 1.6 * demo_rnd(user_id, 0, 'm_freq')) AS BIGINT) AS freq,
        CASE WHEN demo_rnd(user_id, 0, 'm_dead') < 0.2 THEN 0.03
             ELSE 0.25 + 0.5 * demo_rnd(user_id, 0, 'm_open') END AS open_rate
    FROM _demo_users
    WHERE NOT is_internal AND demo_rnd(user_id, 0, 'm_optout') >= 0.12
),
pairs AS (
    SELECT a.*, c.k, c.kind, c.send_us
    FROM audience a
    JOIN campaigns c ON c.send_us > a.signup_us AND c.send_us < $end_us - 3 * $hour_us
),
norm AS (
    SELECT greatest(1, sum(freq)) AS total FROM pairs
),
delivered AS (
    SELECT
        p.user_id, p.k, p.kind, p.open_rate,
        p.kind || '_' || strftime(make_timestamp(p.send_us), '%Y_%m_%d') AS campaign,
        p.send_us + CAST(demo_rnd(p.user_id, p.k, 'm_delay') * 2 * $hour_us AS BIGINT)
            AS delivered_us
    FROM pairs p, norm n
    WHERE demo_rnd(p.user_id, p.k, 'm_send') < p.freq * CAST($n_deliveries AS DOUBLE) / n.total
),
opened AS (
    SELECT
        *,
        delivered_us + $min_us
            + CAST(demo_exp(demo_rnd(user_id, k, 'm_open_t')) * 8 * $hour_us AS BIGINT)
            AS opened_us,
        demo_rnd(user_id, k, 'm_click') < 0.25 AS clicked,
        'msg_' || user_id || '_' || k AS message_id
    FROM delivered
    WHERE demo_rnd(user_id, k, 'm_opened') < open_rate
)
SELECT user_id, 'email_delivered' AS event_name, make_timestamp(delivered_us) AS ts, campaign,
       json_object('message_id', 'msg_' || user_id || '_' || k, 'subject_line', kind)
           AS properties
FROM delivered
UNION ALL
SELECT user_id, 'email_opened', make_timestamp(opened_us), campaign,
       json_object('message_id', message_id, 'client', demo_pick(
           ['gmail', 'apple_mail', 'outlook', 'other'], demo_rnd(user_id, k, 'm_client')))
FROM opened
WHERE opened_us < $end_us
UNION ALL
SELECT user_id, 'email_clicked',
       make_timestamp(opened_us + 5 * $sec_us
                      + CAST(demo_rnd(user_id, k, 'm_click_t') * 10 * $min_us AS BIGINT)),
       campaign,
       json_object('message_id', message_id, 'url', demo_pick(
           ['/pricing', '/blog', '/features', '/changelog'], demo_rnd(user_id, k, 'm_url')))
FROM opened
WHERE clicked AND opened_us + 11 * $min_us < $end_us;
"""

# Account events: monthly invoices of paying accounts (until they churn), some
# plan changes and seat additions; daily usage reports, most recent days first,
# fill the rest of the budget (cut to exactly $n_account_events rows).
_ACCOUNT_EVENTS = """
CREATE OR REPLACE TEMP TABLE _demo_account_events AS
WITH accs AS (
    SELECT *, greatest(created_us, $start_us) AS from_us,
           CASE tier WHEN 'enterprise' THEN 79 WHEN 'pro' THEN 29 ELSE 0 END AS seat_price
    FROM _demo_accounts
),
invoices AS (
    SELECT account_id, 'invoice_paid' AS event_name, created_us + m * 30 * $day_us AS ts_us,
           json_object('amount', CAST(seats * seat_price AS DOUBLE),
                       'invoice_id', 'inv_' || account_id || '_' || m) AS properties,
           0 AS prio, m AS k
    FROM accs, range(14) t(m)
    WHERE seat_price > 0
      AND created_us + m * 30 * $day_us BETWEEN $start_us AND $end_us - $hour_us
      AND created_us + m * 30 * $day_us < coalesce(churn_us, $end_us)
),
plan_changes AS (
    SELECT account_id, 'plan_changed',
           demo_between(from_us, $end_us - $hour_us, demo_rnd(account_id, 0, 'a_plan_t')),
           json_object('from_tier', CASE tier WHEN 'enterprise' THEN 'pro' ELSE 'free' END,
                       'to_tier', tier, 'amount', CAST(seats * seat_price AS DOUBLE)),
           0, 0
    FROM accs
    WHERE seat_price > 0 AND demo_rnd(account_id, 0, 'a_plan') < 0.3
),
seat_pool AS (
    -- skewed towards low account ids (big accounts) and recent dates
    SELECT
        1 + CAST(floor(power(demo_rnd(j, 0, 'a_seat_acc'), 1.3) * $n_accounts) AS BIGINT)
            AS account_id,
        j,
        demo_rnd(j, 0, 'a_seat_t') AS r_t,
        1 + CAST(floor(demo_exp(demo_rnd(j, 0, 'a_seat_n')) * 2) AS INTEGER) AS added
    FROM range(greatest(1, $n_account_events // 20)) t(j)
),
seats AS (
    SELECT s.account_id, 'seat_added',
           demo_between(a.from_us, $end_us - $hour_us, sqrt(s.r_t)),
           json_object('seats', s.added, 'amount', CAST(s.added * a.seat_price AS DOUBLE)),
           1, s.j
    FROM seat_pool s JOIN accs a USING (account_id)
),
usage AS (
    -- k = days before `end`: the budget keeps the most recent days of every account
    SELECT account_id, 'usage_reported', $end_us - (d + 1) * $day_us + 6 * $hour_us,
           json_object('api_calls', CAST(floor(
               seats * 20 * demo_exp(demo_rnd(account_id, d, 'a_usage'))) AS BIGINT)),
           2, d
    FROM accs, range(365) t(d)
    WHERE $end_us - (d + 1) * $day_us + 6 * $hour_us >= from_us
),
pool AS (
    SELECT * FROM invoices
    UNION ALL SELECT * FROM plan_changes
    UNION ALL SELECT * FROM seats
    UNION ALL SELECT * FROM usage
)
SELECT account_id, event_name, make_timestamp(ts_us) AS ts, properties
FROM pool
ORDER BY prio, CASE WHEN prio = 2 THEN k END, hash(hash($seed, account_id, event_name, k))
LIMIT $n_account_events;
"""

_PUBLISH = """
CREATE OR REPLACE TABLE main.accounts AS
SELECT CAST(account_id AS BIGINT) AS account_id, name, tier, industry, seats,
       make_timestamp(created_us) AS created_at
FROM _demo_accounts
ORDER BY account_id;

CREATE OR REPLACE TABLE main.events AS
SELECT CAST(user_id AS BIGINT) AS user_id, event_name, ts, platform,
       CAST(properties AS JSON) AS properties
FROM _demo_events
ORDER BY ts, user_id, event_name;

CREATE OR REPLACE TABLE main.email_events AS
SELECT CAST(user_id AS BIGINT) AS user_id, event_name, ts, campaign,
       CAST(properties AS JSON) AS properties
FROM _demo_email
ORDER BY ts, user_id, event_name;

CREATE OR REPLACE TABLE main.account_events AS
SELECT CAST(account_id AS BIGINT) AS account_id, event_name, ts,
       CAST(properties AS JSON) AS properties
FROM _demo_account_events
ORDER BY ts, account_id, event_name;

CREATE OR REPLACE TABLE main.users AS
WITH spend AS (
    -- lifetime value: the sum of all orders (exact decimal sum, thread-independent)
    SELECT user_id, sum(CAST(properties ->> 'amount' AS DECIMAL(18, 2))) AS amount
    FROM main.events
    WHERE event_name = 'checkout_completed'
    GROUP BY user_id
),
cities AS (
    SELECT
        user_id,
        demo_pick(CASE country
            WHEN 'US' THEN ['New York', 'San Francisco', 'Austin', 'Chicago', 'Seattle']
            WHEN 'DE' THEN ['Berlin', 'Berlin', 'Munich', 'Hamburg', 'Cologne']
            WHEN 'GB' THEN ['London', 'London', 'Manchester', 'Edinburgh']
            WHEN 'FR' THEN ['Paris', 'Paris', 'Lyon', 'Marseille']
            WHEN 'IN' THEN ['Bengaluru', 'Mumbai', 'Delhi']
            WHEN 'BR' THEN ['Sao Paulo', 'Rio de Janeiro']
            WHEN 'CA' THEN ['Toronto', 'Vancouver', 'Montreal']
            WHEN 'NL' THEN ['Amsterdam', 'Rotterdam', 'Utrecht']
            WHEN 'ES' THEN ['Madrid', 'Barcelona', 'Valencia']
            WHEN 'JP' THEN ['Tokyo', 'Osaka']
            WHEN 'AU' THEN ['Sydney', 'Melbourne']
            WHEN 'SE' THEN ['Stockholm', 'Gothenburg']
            ELSE ['Warsaw', 'Krakow']
        END, demo_rnd(user_id, 0, 't_city')) AS city
    FROM _demo_users
),
traits AS (
    -- json_merge_patch drops the keys whose value is NULL: traits have missing keys
    SELECT
        u.user_id,
        CASE WHEN demo_rnd(u.user_id, 0, 't_null') >= 0.03 THEN json_merge_patch('{}', json_object(
            'company_size', CASE WHEN demo_rnd(u.user_id, 0, 't_has_size') >= 0.2 THEN demo_pick(
                [1, 5, 10, 25, 50, 100, 250, 500, 1000, 5000], demo_rnd(u.user_id, 0, 't_size'))
            END,
            'newsletter', CASE WHEN demo_rnd(u.user_id, 0, 't_has_news') >= 0.3
                               THEN demo_rnd(u.user_id, 0, 't_news') < 0.55 END,
            'role', CASE WHEN demo_rnd(u.user_id, 0, 't_has_role') >= 0.25 THEN demo_pick(
                ['analyst', 'analyst', 'engineer', 'data_engineer', 'marketer',
                 'product_manager', 'founder', 'sales', 'designer'],
                demo_rnd(u.user_id, 0, 't_role'))
            END,
            'address', CASE WHEN demo_rnd(u.user_id, 0, 't_has_city') >= 0.4
                            THEN json_object('city', c.city) END
        )) END AS traits
    FROM _demo_users u
    JOIN cities c USING (user_id)
),
names AS (
    SELECT
        user_id,
        demo_pick(['anna', 'ben', 'chen', 'diego', 'elif', 'farah', 'george', 'hana', 'ivan',
                   'julia', 'kofi', 'lena', 'mateo', 'nora', 'omar', 'priya', 'quinn', 'rosa',
                   'sven', 'tariq', 'uma', 'victor', 'wei', 'yara', 'zoe'],
                  demo_rnd(user_id, 0, 'n_first'))
        || '.'
        || demo_pick(['smith', 'muller', 'garcia', 'kim', 'novak', 'rossi', 'silva', 'tanaka',
                      'dubois', 'jensen', 'kowalski', 'okafor', 'patel', 'schmidt', 'nguyen'],
                     demo_rnd(user_id, 0, 'n_last'))
        || user_id AS local_part
    FROM _demo_users
)
SELECT
    CAST(u.user_id AS BIGINT) AS user_id,
    n.local_part || '@' || CASE
        WHEN u.is_internal THEN 'segsql.io'
        WHEN u.account_domain IS NOT NULL AND u.r_mail < 0.8 THEN u.account_domain
        ELSE demo_pick(['gmail.com', 'gmail.com', 'gmail.com', 'yahoo.com', 'outlook.com',
                        'proton.me', 'icloud.com'], u.r_mail)
    END AS email,
    CAST(u.account_id AS BIGINT) AS account_id,
    u.plan,
    u.country,
    make_timestamp(u.signup_us) AS signup_at,
    CAST(coalesce(s.amount, 0) AS DOUBLE) AS lifetime_value,
    u.is_internal,
    CAST(t.traits AS JSON) AS traits
FROM _demo_users u
JOIN names n USING (user_id)
JOIN traits t USING (user_id)
LEFT JOIN spend s USING (user_id)
ORDER BY u.user_id;
"""

_CLEANUP = """
DROP TABLE IF EXISTS _demo_accounts;
DROP TABLE IF EXISTS _demo_users;
DROP TABLE IF EXISTS _demo_alloc;
DROP TABLE IF EXISTS _demo_events;
DROP TABLE IF EXISTS _demo_email;
DROP TABLE IF EXISTS _demo_account_events;
DROP MACRO IF EXISTS demo_rnd;
DROP MACRO IF EXISTS demo_pick;
DROP MACRO IF EXISTS demo_exp;
DROP MACRO IF EXISTS demo_between;
"""


def default_end() -> datetime:
    """Today's midnight UTC, as a naive datetime."""
    now = datetime.now(timezone.utc)
    return datetime(now.year, now.month, now.day)


def _render(sql: str, params: dict[str, int]) -> str:
    """Fill the `$name` placeholders; only integers are ever substituted."""
    return string.Template(sql).substitute({k: str(int(v)) for k, v in params.items()})


def _run(con: Any, sql: str, params: dict[str, int]) -> None:
    """Execute a script of statements separated by `;` at the end of a line."""
    for statement in _render(sql, params).split(";\n"):
        if statement.strip():
            con.execute(statement)


def _count(con: Any, table: str) -> int:
    """Row count of a table (fixed names only)."""
    row = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(row[0]) if row else 0


def generate(
    path: str | os.PathLike[str] | None = None,
    *,
    users: int = 10_000,
    events: int = 1_000_000,
    end: datetime | None = None,
    seed: int = 42,
    con: Any = None,
) -> dict[str, int]:
    """Write the demo warehouse into the DuckDB file at `path` (or into the open duckdb
    connection `con`), replacing the demo tables; returns row counts per table."""
    if users < 1:
        raise ValueError(f"users must be at least 1, got {users}")
    if events < 0:
        raise ValueError(f"events must not be negative, got {events}")
    if con is None and path is None:
        raise ValueError("generate() needs a DuckDB file path or an open connection")
    end_dt = utc_naive(end) if end is not None else default_end()
    end_us = (end_dt - datetime(1970, 1, 1)) // timedelta(microseconds=1)
    start_us = end_us - 365 * _DAY_US

    n_account_events = events * 5 // 100
    params = {
        "seed": seed,
        "end_us": end_us,
        "start_us": start_us,
        "start_day_us": start_us - start_us % _DAY_US,
        "day_us": _DAY_US,
        "hour_us": _HOUR_US,
        "min_us": _MIN_US,
        "sec_us": _SEC_US,
        "n_users": users,
        "n_accounts": max(1, users // 10),
        "n_account_events": n_account_events,
        # a delivery brings ~0.5 more rows (opens, clicks): 10% of the budget in all
        "n_deliveries": events * 10 // 100 * 2 // 3,
    }

    own = con is None
    if own:
        from ..adapters.duckdb import connect_file

        con = connect_file(os.fspath(path))  # type: ignore[arg-type]
    (progress_bar,) = con.execute("SELECT current_setting('enable_progress_bar')").fetchone()
    con.execute("SET enable_progress_bar = false")
    try:
        _run(con, _MACROS, params)
        _run(con, _ACCOUNTS, params)
        _run(con, _USERS, params)
        _run(con, _EMAIL, params)
        _run(con, _ACCOUNT_EVENTS, params)
        spent = _count(con, "_demo_email") + _count(con, "_demo_account_events")
        params["n_events"] = max(0, events - spent)
        _run(con, _ALLOCATION, params)
        _run(con, _EVENTS, params)
        con.execute("BEGIN TRANSACTION")
        try:
            _run(con, _PUBLISH, params)
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        return {table: _count(con, f"main.{table}") for table in DEMO_TABLES}
    finally:
        try:
            _run(con, _CLEANUP, params)
            if progress_bar:
                con.execute("SET enable_progress_bar = true")
        finally:
            if own:
                con.close()
