SELECT
  _e."user_id" AS "entity_id",
  FALSE AS "holdout"
FROM "main"."users" AS _e
LEFT JOIN (
  SELECT
    _e."account_id" AS "segsql_k"
  FROM "main"."accounts" AS _e
  LEFT JOIN (
    SELECT
      ev."account_id" AS "segsql_k",
      COUNT(*) AS "f1"
    FROM "main"."account_events" AS ev
    WHERE
      ev."ts" <= CAST(AT_TIMEZONE(CURRENT_TIMESTAMP, 'UTC') AS TIMESTAMP)
      AND ev."event_name" IN ('invoice_paid')
      AND ev."ts" >= CAST(AT_TIMEZONE(CURRENT_TIMESTAMP, 'UTC') AS TIMESTAMP) - INTERVAL '30' DAY
    GROUP BY
      ev."account_id"
  ) AS _s1
    ON _s1."segsql_k" = _e."account_id"
  WHERE
    NOT _e."account_id" IS NULL AND (
      COALESCE(_s1."f1", 0) >= 1
    )
) AS _p1
  ON _p1."segsql_k" = _e."account_id"
WHERE
  (
    NOT _e."user_id" IS NULL
    AND (
      _e."signup_at" IS NULL
      OR _e."signup_at" <= CAST(AT_TIMEZONE(CURRENT_TIMESTAMP, 'UTC') AS TIMESTAMP)
    )
  )
  AND NOT _p1."segsql_k" IS NULL
