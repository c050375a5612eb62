SELECT
  _e."user_id" AS "entity_id",
  (
    FROM_BASE(
      SUBSTR(
        LOWER(
          TO_HEX(
            MD5(
              TO_UTF8(
                CONCAT(CAST('holdout_half:' AS VARCHAR), CAST(CAST(_e."user_id" AS VARCHAR) AS VARCHAR))
              )
            )
          )
        ),
        1,
        7
      ),
      16
    )
  ) % 100 < 50 AS "holdout"
FROM "main"."users" AS _e
WHERE
  (
    NOT _e."user_id" IS NULL
    AND (
      _e."signup_at" IS NULL
      OR _e."signup_at" <= CAST(AT_TIMEZONE(CURRENT_TIMESTAMP, 'UTC') AS TIMESTAMP)
    )
  )
  AND TRUE
