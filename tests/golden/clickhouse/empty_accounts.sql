SELECT
  _e."account_id" AS "entity_id",
  FALSE AS "holdout"
FROM "main"."accounts" AS _e
LEFT JOIN (
  SELECT
    c."parent" AS "segsql_k",
    COUNT(1) AS "n"
  FROM (
    SELECT
      _e."user_id" AS "entity_id",
      _e."account_id" AS "parent"
    FROM "main"."users" AS _e
    WHERE
      NOT (
        _e."user_id" IS NULL
      )
      AND (
        _e."signup_at" IS NULL OR _e."signup_at" <= now64(6, 'UTC')
      )
  ) AS c
  WHERE
    NOT (
      c."parent" IS NULL
    )
  GROUP BY
    c."parent"
) AS _m1
  ON _m1."segsql_k" = _e."account_id"
WHERE
  NOT (
    _e."account_id" IS NULL
  ) AND (
    COALESCE(_m1."n", 0) = 0
  )
SETTINGS join_use_nulls = 1
