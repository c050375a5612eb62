SELECT
  _e.`user_id` AS `entity_id`,
  (
    CAST(CONV(SUBSTRING(MD5('holdout_half:' || CAST(_e.`user_id` AS STRING)), 1, 7), 16, 10) AS BIGINT)
  ) % 100 < 50 AS `holdout`
FROM `main`.`users` AS _e
WHERE
  (
    NOT _e.`user_id` IS NULL
    AND (
      _e.`signup_at` IS NULL OR _e.`signup_at` <= CURRENT_TIMESTAMP()
    )
  )
  AND TRUE
